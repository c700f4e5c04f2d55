import { type ShellWord, shellQuote } from './shell';

/**
 * Where a release lives on a host, under the release root:
 *   releases/<tag>   one directory per release
 *   current          → the release in service
 *   green            → the release deploy_green started beside it (blue-green)
 *   blue             → the release switch_traffic took out of service, until cleanup_blue
 */
export class ReleaseLayout {
  constructor(readonly root: string) {}
  get releases(): string {
    return `${this.root}/releases`;
  }
  release(name: string): string {
    return `${this.releases}/${name}`;
  }
  get current(): string {
    return `${this.root}/current`;
  }
  get green(): string {
    return `${this.root}/green`;
  }
  get blue(): string {
    return `${this.root}/blue`;
  }
}

/**
 * Points `link` at `target` atomically: a new link under a temporary name, renamed over the
 * old one (rename(2) replaces it in one step, so readers see the old or the new release).
 */
export const swapLinkScript = (target: ShellWord, link: string): string => {
  const temporary = `${shellQuote(link)}.swap-$$`;
  return `ln -sfn ${target.word} ${temporary} && mv -T ${temporary} ${shellQuote(link)}`;
};
