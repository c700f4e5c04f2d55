import { createVersionsHandler } from '../api/versions';
import { createVersionService } from '../services/version-service';
import { createUsageGuard } from '../store/usage-guard';
import { createVersionRepository } from '../store/version-repository';
import { readEnvironment, storeContextFrom, TableEnvironment } from './runtime';

const store = storeContextFrom(readEnvironment(TableEnvironment));

export const handler = createVersionsHandler(
  createVersionService(createVersionRepository(store), createUsageGuard(store)),
);
