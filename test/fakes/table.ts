/**
 * Rows by key, as a table keeps them: callers get copies, so changing what a query returned
 * changes nothing stored. `snapshot`/`restore` let a transaction roll back.
 */
export class Table<Row extends object> {
  protected rows = new Map<string, Row>();

  /** Every row (copies), in insertion order. */
  all(): Row[] {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }

  protected row(key: string): Row | undefined {
    const r = this.rows.get(key);
    return r && structuredClone(r);
  }

  /** Stores `row` under `key` (replacing the row there) and returns a copy of it. */
  protected put(key: string, row: Row): Row {
    this.rows.set(key, structuredClone(row));
    return structuredClone(row);
  }

  /** Stores a new row; a key already there breaks `constraint`, as the database would say. */
  protected insertNew(key: string, row: Row, constraint: string): void {
    if (this.rows.has(key)) throw new Error(`UNIQUE constraint failed: ${constraint} (${key})`);
    this.put(key, row);
  }

  protected remove(key: string): void {
    this.rows.delete(key);
  }

  /** A copy of what is stored, for `restore`. */
  snapshot(): unknown {
    return structuredClone(this.rows);
  }

  restore(saved: unknown): void {
    this.rows = saved as Map<string, Row>;
  }
}
