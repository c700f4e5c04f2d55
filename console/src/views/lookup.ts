import type { Application, Environment, Version } from '../api/types';
import { useCatalog } from '../queries';

export interface Names {
  version(id: string): string;
  application(id: string): string;
  environment(id: string): string;
}

const nameIn = <T extends { id: string }>(items: readonly T[] | undefined, label: (item: T) => string) => {
  const byId = new Map((items ?? []).map((item) => [item.id, label(item)]));
  return (id: string) => byId.get(id) ?? id;
};

/** Readable names for ids (the version's tag, the application's and environment's names). */
export function useNames(): Names {
  const { versions, applications, environments } = useCatalog();
  return {
    version: nameIn<Version>(versions.data?.versions, (v) => v.git_tag),
    application: nameIn<Application>(applications.data?.applications, (a) => a.name),
    environment: nameIn<Environment>(environments.data?.environments, (e) => e.name),
  };
}
