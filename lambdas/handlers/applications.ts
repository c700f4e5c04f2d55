import { createApplicationsHandler } from '../api/applications';
import { createApplicationService } from '../services/application-service';
import { createApplicationRepository } from '../store/application-repository';
import { createUsageGuard } from '../store/usage-guard';
import { readEnvironment, storeContextFrom, TableEnvironment } from './runtime';

const store = storeContextFrom(readEnvironment(TableEnvironment));

export const handler = createApplicationsHandler(
  createApplicationService(createApplicationRepository(store), createUsageGuard(store)),
);
