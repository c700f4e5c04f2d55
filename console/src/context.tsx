import { createContext, useContext } from 'react';
import type { ApiClient } from './api/client';
import type { Access, Claims } from './auth/roles';
import { denialOf } from './auth/roles';

export interface Session {
  readonly api: ApiClient;
  readonly claims: Claims;
  readonly signOut: () => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside a signed-in console');
  return session;
}

/** undefined when the signed-in user may do it; else the reason shown beside the disabled button. */
export function useDenial(access: Access): string | undefined {
  return denialOf(useSession().claims.groups, access);
}
