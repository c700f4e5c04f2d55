/** The edge logs through the one structured logger (observability/logger.ts). */
export { logger } from '../observability/logger';
