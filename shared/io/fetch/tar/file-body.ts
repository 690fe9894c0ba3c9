// The body of a regular file being extracted: pieces queue here as the tar stream delivers them,
// until the job writing the file takes them (so a big file never sits in memory whole).
export class FileBody {
  pieces: Buffer[] = [];
  ended = false;
  private wake: (() => void) | undefined;

  /** A body that is all here already. */
  static whole(body: Buffer): FileBody {
    const b = new FileBody();
    b.pieces = [body];
    b.ended = true;
    return b;
  }

  push(b: Buffer): void {
    this.pieces.push(b);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves at the next push() or end(). */
  more(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }
}
