// SQLite metadata: opening, pragmas and versioned migrations (PRAGMA user_version).
import Database from 'better-sqlite3'
import { closeSync, openSync } from 'node:fs'

type Db = Database.Database

export const BUSY_TIMEOUT_MS = 100

const migrations: string[] = [
  // 1: the initial schema
  `
  CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  -- content-addressed blobs, shared by every repository
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- which repository may read which blob (one repository cannot read another's by digest)
  CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES blobs(digest),
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
  ) WITHOUT ROWID;
  CREATE INDEX repository_blobs_by_digest ON repository_blobs(digest);
  CREATE TABLE manifests (
    id INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    artifact_type TEXT,
    subject TEXT,
    annotations TEXT,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    pushed_at INTEGER NOT NULL,
    pushed_by TEXT,
    UNIQUE (repository_id, digest)
  );
  CREATE INDEX manifests_by_subject ON manifests(repository_id, subject) WHERE subject IS NOT NULL;
  -- manifest -> config and layer blobs
  CREATE TABLE manifest_blobs (
    manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    digest TEXT NOT NULL REFERENCES blobs(digest),
    role TEXT NOT NULL CHECK (role IN ('config', 'layer')),
    PRIMARY KEY (manifest_id, digest)
  ) WITHOUT ROWID;
  CREATE INDEX manifest_blobs_by_digest ON manifest_blobs(digest);
  -- index -> child manifests (same repository)
  CREATE TABLE manifest_children (
    manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    child_digest TEXT NOT NULL,
    PRIMARY KEY (manifest_id, child_digest)
  ) WITHOUT ROWID;
  CREATE INDEX manifest_children_by_child ON manifest_children(child_digest);
  CREATE TABLE tags (
    repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX tags_by_manifest ON tags(manifest_id);
  -- upload sessions; the bytes live in uploads/<id>. committing_digest marks the moment
  -- between the rename into blobs/ and the row, so a restart can finish the commit.
  CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    committing_digest TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    repository TEXT,
    reference TEXT,
    digest TEXT,
    user_agent TEXT,
    detail TEXT
  );
  CREATE INDEX events_by_time ON events(at);
  `,
  // 2: client certificates (mTLS) and users (basic auth)
  `
  CREATE TABLE client_certificates (
    serial TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    revoked_at INTEGER,
    cert_pem TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: garbage collection. Content is "fresh" (claimed = 0) from upload, mount or HEAD until a
  // manifest, tag or index references it (claimed = 1); fresh content is kept for a grace
  // window, claimed content as long as something kept references it.
  `
  ALTER TABLE repository_blobs ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE manifests ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE manifests ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
  UPDATE manifests SET touched_at = pushed_at;
  UPDATE manifests SET claimed = 1 WHERE id IN (SELECT manifest_id FROM tags)
    OR digest IN (SELECT child_digest FROM manifest_children);
  UPDATE repository_blobs SET claimed = 1 WHERE EXISTS (
    SELECT 1 FROM manifest_blobs mb JOIN manifests m ON m.id = mb.manifest_id
    WHERE m.repository_id = repository_blobs.repository_id AND mb.digest = repository_blobs.digest);
  -- blob files whose rows a GC removed; recovery finishes removing them after a crash
  CREATE TABLE pending_file_deletes (digest TEXT PRIMARY KEY) WITHOUT ROWID;
  -- GUI/CLI deletes, kept so they can be undone until GC removes the content
  CREATE TABLE deletions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'manifest', 'repository')),
    repository TEXT NOT NULL,
    reference TEXT,
    snapshot TEXT NOT NULL,
    undone_at INTEGER
  );
  CREATE TABLE gc_runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    dry_run INTEGER NOT NULL,
    untagged INTEGER NOT NULL,
    manifests INTEGER NOT NULL DEFAULT 0,
    blobs INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    uploads INTEGER NOT NULL DEFAULT 0,
    repositories INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 4: a count per activity row (pulls of one reference by one client within a minute are one row)
  `
  ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
  `,
  // 5: access rules: groups of users, grants on repository prefixes, robot tokens
  `
  CREATE TABLE groups (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE group_members (
    team TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    PRIMARY KEY (team, user)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_by_user ON group_members(user);
  CREATE TABLE access_grants (
    who TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('pull', 'push', 'delete')),
    prefix TEXT NOT NULL,
    PRIMARY KEY (who, action, prefix)
  ) WITHOUT ROWID;
  INSERT INTO access_grants (who, action, prefix) VALUES ('anonymous', 'pull', '*'), ('authenticated', 'push', '*');
  CREATE TABLE robot_tokens (
    name TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    last_used_at INTEGER
  ) WITHOUT ROWID;
  `,
  // 6: a deletion may be a selection (several tags and manifests of one repository, one undo)
  `
  CREATE TABLE deletions_v6 (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'manifest', 'repository', 'selection')),
    repository TEXT NOT NULL,
    reference TEXT,
    snapshot TEXT NOT NULL,
    undone_at INTEGER
  );
  INSERT INTO deletions_v6 SELECT id, at, kind, repository, reference, snapshot, undone_at FROM deletions;
  DROP TABLE deletions;
  ALTER TABLE deletions_v6 RENAME TO deletions;
  `,
  // 7: retention rules per repository prefix, applied by each garbage collection
  `
  CREATE TABLE retention_rules (
    prefix TEXT PRIMARY KEY,
    keep_last INTEGER CHECK (keep_last IS NULL OR keep_last >= 0),
    keep_matching TEXT,
    drop_older_than_ms INTEGER CHECK (drop_older_than_ms IS NULL OR drop_older_than_ms > 0),
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 8: webhooks: endpoints, a durable queue (one row per event and endpoint), the delivery log
  `
  CREATE TABLE webhooks (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    actions TEXT NOT NULL DEFAULT 'push,pull,delete',
    ignored_media_types TEXT NOT NULL DEFAULT '',
    timeout_ms INTEGER NOT NULL,
    threshold INTEGER NOT NULL,
    backoff_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE webhook_queue (
    id INTEGER PRIMARY KEY,
    webhook TEXT NOT NULL REFERENCES webhooks(name) ON DELETE CASCADE,
    event TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  CREATE INDEX webhook_queue_by_endpoint ON webhook_queue(webhook, id);
  CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook TEXT NOT NULL REFERENCES webhooks(name) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    action TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status INTEGER,
    error TEXT,
    at INTEGER NOT NULL,
    ms INTEGER NOT NULL
  );
  CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(webhook, id);
  `,
]

export function openDatabase(path: string): Db {
  // Create it owner-only; SQLite gives the -wal and -shm files the same mode.
  closeSync(openSync(path, 'a', 0o600))
  // the desktop app runs on Electron's Node, which needs its own build of the native module
  const nativeBinding = process.env.BERTH_SQLITE_BINDING
  const db = new Database(path, nativeBinding ? { nativeBinding } : {})
  db.pragma('journal_mode = WAL')
  // NORMAL in WAL mode survives any process crash; blob files are fsynced separately.
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  // short: a busy wait blocks the event loop, so every listener would stall behind it. Writes
  // that must happen retry off the loop (retryWhileBusy); the rest answer 503 with Retry-After.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  migrate(db)
  return db
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > migrations.length) {
    throw new Error(`the database was written by a newer Berth (schema ${current}, this one knows ${migrations.length})`)
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version])
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
