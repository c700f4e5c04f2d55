/**
 * Replaces the secret values an agent holds with `***` before text leaves the agent (task
 * logs, failure causes, results). A multi-line secret (a private key) is also masked line by
 * line, since logs travel as lines. Values shorter than MIN_SECRET_LENGTH are not masked:
 * masking `a` or `10` would garble every log without protecting anything.
 */
export const MASK = '***';
export const MIN_SECRET_LENGTH = 4;

export class SecretMasker {
  readonly #values = new Set<string>();
  #longest = 0;
  #sorted: string[] = [];

  add(secret: string): void {
    const pieces = [secret, secret.trim(), ...secret.split(/\r?\n/).map((line) => line.trim())];
    let changed = false;
    for (const piece of pieces) {
      if (piece.length < MIN_SECRET_LENGTH || this.#values.has(piece)) continue;
      this.#values.add(piece);
      this.#longest = Math.max(this.#longest, piece.length);
      changed = true;
    }
    // Longest first, so a value containing another is masked whole.
    if (changed) this.#sorted = [...this.#values].sort((a, b) => b.length - a.length);
  }

  /** the length of the longest value: a text split after fewer characters may hide one */
  get longest(): number {
    return this.#longest;
  }

  mask(text: string): string {
    let masked = text;
    for (const value of this.#sorted) if (masked.includes(value)) masked = masked.replaceAll(value, MASK);
    return masked;
  }

  /**
   * Where `text` may be cut so that no secret straddles the cut, given that more text may
   * follow: at most `text.length - (longest - 1)`, moved past any complete occurrence that
   * crosses it. Text after the cut is held back until more arrives.
   */
  safeCut(text: string): number {
    let cut = Math.max(0, text.length - Math.max(0, this.#longest - 1));
    let moved = true;
    while (moved) {
      moved = false;
      for (const value of this.#sorted) {
        let index = text.indexOf(value, Math.max(0, cut - value.length + 1));
        while (index !== -1 && index < cut) {
          if (index + value.length > cut) {
            cut = index + value.length;
            moved = true;
          }
          index = text.indexOf(value, index + 1);
        }
      }
    }
    return cut;
  }
}
