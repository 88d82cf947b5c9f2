-- upglog schema v1, exactly as upglog created it before schema v2 (tests only).
CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  started TEXT NOT NULL,
  finished TEXT,
  tool_version TEXT NOT NULL,
  catalogue_hash TEXT NOT NULL,
  arguments TEXT NOT NULL
);
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  path TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  host TEXT,
  size INTEGER,
  mtime INTEGER,
  complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  path TEXT NOT NULL UNIQUE,
  location TEXT NOT NULL,
  family TEXT,
  encoding TEXT,
  size INTEGER,
  mtime INTEGER,
  bytes INTEGER,
  lines INTEGER,
  cut_lines INTEGER NOT NULL DEFAULT 0,
  replaced INTEGER NOT NULL DEFAULT 0,
  hash TEXT,
  status TEXT NOT NULL,
  error TEXT
);
CREATE INDEX files_source ON files(source_id);
CREATE TABLE rules (
  id INTEGER PRIMARY KEY,
  rule_id TEXT NOT NULL UNIQUE,
  rank INTEGER NOT NULL,
  severity TEXT NOT NULL,
  family TEXT NOT NULL,
  event TEXT,
  priority INTEGER NOT NULL,
  code TEXT,
  evidence TEXT NOT NULL,
  title TEXT NOT NULL,
  explain TEXT NOT NULL,
  fix TEXT NOT NULL,
  pattern TEXT NOT NULL,
  origin TEXT NOT NULL
);
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  line INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  ts TEXT,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  level INTEGER NOT NULL,
  code TEXT,
  action TEXT,
  text TEXT NOT NULL,
  title TEXT,
  captures TEXT,
  context_before TEXT,
  context_after TEXT,
  UNIQUE(file_id, line)
);
CREATE INDEX findings_level ON findings(level, file_id);
CREATE TABLE rule_hits (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_line INTEGER NOT NULL,
  last_line INTEGER NOT NULL,
  UNIQUE(file_id, rule_id)
);
CREATE TABLE verdicts (
  id INTEGER PRIMARY KEY,
  file_id INTEGER NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,
  outcome TEXT NOT NULL,
  finding_id INTEGER REFERENCES findings(id) ON DELETE SET NULL,
  root_line INTEGER,
  action TEXT,
  exit_code INTEGER,
  reboot INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  product TEXT,
  host TEXT,
  started TEXT,
  failed_at TEXT
);
CREATE TABLE candidates (
  id INTEGER PRIMARY KEY,
  verdict_id INTEGER NOT NULL REFERENCES verdicts(id) ON DELETE CASCADE,
  rank INTEGER NOT NULL,
  line INTEGER NOT NULL,
  finding_id INTEGER REFERENCES findings(id) ON DELETE SET NULL,
  reason TEXT NOT NULL
);
CREATE INDEX candidates_verdict ON candidates(verdict_id);
CREATE VIEW v_findings AS
  SELECT f.id, fi.path AS file, f.line, f.ts, f.rule_id, f.severity, f.level, f.code,
         f.action, f.text, f.title, r.fix
  FROM findings f JOIN files fi ON fi.id = f.file_id
  LEFT JOIN rules r ON r.rule_id = f.rule_id;
CREATE VIEW v_failures AS
  SELECT fi.path AS file, v.outcome, v.exit_code, v.action, v.reason, v.failed_at,
         f.line, f.rule_id, f.code, f.text
  FROM verdicts v JOIN files fi ON fi.id = v.file_id
  LEFT JOIN findings f ON f.id = v.finding_id
  WHERE v.outcome = 'failed';
CREATE VIEW v_noise AS
  SELECT fi.path AS file, h.rule_id, r.code, h.count, h.first_line, h.last_line
  FROM rule_hits h JOIN files fi ON fi.id = h.file_id
  LEFT JOIN rules r ON r.rule_id = h.rule_id
  WHERE h.severity = 'noise';
PRAGMA user_version = 1;
