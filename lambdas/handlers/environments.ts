import { createEnvironmentsHandler } from '../api/environments';
import { createEnvironmentService } from '../services/environment-service';
import { createEnvironmentRepository } from '../store/environment-repository';
import { createUsageGuard } from '../store/usage-guard';
import { readEnvironment, storeContextFrom, TableEnvironment } from './runtime';

const store = storeContextFrom(readEnvironment(TableEnvironment));

export const handler = createEnvironmentsHandler(
  createEnvironmentService(createEnvironmentRepository(store), createUsageGuard(store)),
);
