/** The path of better_sqlite3.node built for this Electron version, building it when missing. */
export function electronSqliteBinding(electronVersion: string): string
