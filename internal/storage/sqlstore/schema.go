package sqlstore

// migration is one schema step. Statements are portable SQL; "{blob}" is
// replaced by the dialect's binary type. A released migration is never
// edited: change the schema by appending a new one.
type migration struct {
	version int
	stmts   []string
}

// migrations are applied in order, each in its own transaction.
//
// Conventions: times are BIGINT Unix nanoseconds (0 = never), string lists
// are JSON text, secrets only ever appear as hashes or sealed blobs. Each
// table that can grow large has an index on expires_at, partial over the
// rows that can expire, which is what GarbageCollect scans; signing keys and
// leases stay a handful of rows.
var migrations = []migration{
	{version: 1, stmts: []string{
		`CREATE TABLE clients (
			id TEXT PRIMARY KEY,
			secret_hash {blob},
			name TEXT NOT NULL,
			uri TEXT NOT NULL,
			logo_uri TEXT NOT NULL,
			redirect_uris TEXT NOT NULL,
			grant_types TEXT NOT NULL,
			response_types TEXT NOT NULL,
			token_endpoint_auth_method TEXT NOT NULL,
			scopes TEXT NOT NULL,
			source TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX clients_expires_at ON clients (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE auth_requests (
			id TEXT PRIMARY KEY,
			client_id TEXT NOT NULL,
			redirect_uri TEXT NOT NULL,
			state TEXT NOT NULL,
			code_challenge TEXT NOT NULL,
			code_challenge_method TEXT NOT NULL,
			resource TEXT NOT NULL,
			scopes TEXT NOT NULL,
			prompt TEXT NOT NULL,
			browser_binding {blob},
			consent_granted BOOLEAN NOT NULL,
			provider_id TEXT NOT NULL,
			upstream_state_hash {blob},
			upstream_sealed {blob},
			subject TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX auth_requests_upstream_state ON auth_requests (upstream_state_hash)`,
		// Not partial: CountAuthRequests also reads the unexpired side.
		`CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at)`,

		`CREATE TABLE auth_codes (
			hash {blob} PRIMARY KEY,
			client_id TEXT NOT NULL,
			redirect_uri TEXT NOT NULL,
			code_challenge TEXT NOT NULL,
			code_challenge_method TEXT NOT NULL,
			resource TEXT NOT NULL,
			scopes TEXT NOT NULL,
			subject TEXT NOT NULL,
			provider_id TEXT NOT NULL,
			group_names TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			family_id TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			consumed_at BIGINT NOT NULL
		)`,
		`CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE refresh_families (
			id TEXT PRIMARY KEY,
			client_id TEXT NOT NULL,
			subject TEXT NOT NULL,
			provider_id TEXT NOT NULL,
			resource TEXT NOT NULL,
			scopes TEXT NOT NULL,
			group_names TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			last_used_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			user_checked_at BIGINT NOT NULL,
			revoked_at BIGINT NOT NULL,
			revoke_reason TEXT NOT NULL
		)`,
		`CREATE INDEX refresh_families_subject ON refresh_families (subject)`,
		`CREATE INDEX refresh_families_client ON refresh_families (client_id)`,
		`CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE refresh_tokens (
			id TEXT PRIMARY KEY,
			family_id TEXT NOT NULL,
			client_id TEXT NOT NULL,
			secret_hash {blob},
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			used_at BIGINT NOT NULL,
			successor_id TEXT NOT NULL,
			successor_sealed {blob},
			grace_until BIGINT NOT NULL
		)`,
		`CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)`,
		`CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at) WHERE expires_at <> 0`,
		`CREATE INDEX refresh_tokens_sealed ON refresh_tokens (grace_until) WHERE successor_sealed IS NOT NULL`,

		`CREATE TABLE consents (
			subject TEXT NOT NULL,
			client_id TEXT NOT NULL,
			redirect_uri TEXT NOT NULL,
			resource TEXT NOT NULL,
			scopes TEXT NOT NULL,
			granted_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			PRIMARY KEY (subject, client_id, redirect_uri, resource)
		)`,
		`CREATE INDEX consents_client ON consents (client_id)`,
		`CREATE INDEX consents_expires_at ON consents (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE browser_sessions (
			id TEXT PRIMARY KEY,
			subject TEXT NOT NULL,
			provider_id TEXT NOT NULL,
			email TEXT NOT NULL,
			email_verified BOOLEAN NOT NULL,
			name TEXT NOT NULL,
			group_names TEXT NOT NULL,
			user_agent_hash {blob},
			ip_prefix TEXT NOT NULL,
			auth_time BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			last_seen_at BIGINT NOT NULL,
			idle_expires_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX browser_sessions_subject ON browser_sessions (subject, created_at)`,
		`CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at) WHERE expires_at <> 0`,
		`CREATE INDEX browser_sessions_idle_expires_at ON browser_sessions (idle_expires_at) WHERE idle_expires_at <> 0`,

		`CREATE TABLE upstream_tokens (
			subject TEXT NOT NULL,
			provider_id TEXT NOT NULL,
			config_hash {blob},
			sealed {blob},
			expires_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (subject, provider_id)
		)`,

		`CREATE TABLE signing_keys (
			id TEXT PRIMARY KEY,
			algorithm TEXT NOT NULL,
			public_jwk {blob},
			private_sealed {blob},
			created_at BIGINT NOT NULL,
			active_at BIGINT NOT NULL,
			retired_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,

		`CREATE TABLE revocations (
			kind TEXT NOT NULL,
			rev_key TEXT NOT NULL,
			reason TEXT NOT NULL,
			not_before BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			PRIMARY KEY (kind, rev_key)
		)`,
		`CREATE INDEX revocations_created_at ON revocations (created_at)`,
		`CREATE INDEX revocations_expires_at ON revocations (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE mcp_sessions (
			id TEXT PRIMARY KEY,
			upstream TEXT NOT NULL,
			subject TEXT NOT NULL,
			client_id TEXT NOT NULL,
			upstream_id TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			last_seen_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX mcp_sessions_expires_at ON mcp_sessions (expires_at) WHERE expires_at <> 0`,

		`CREATE TABLE leases (
			name TEXT PRIMARY KEY,
			holder TEXT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,

		`CREATE TABLE audit (
			seq BIGINT PRIMARY KEY,
			id TEXT NOT NULL,
			at BIGINT NOT NULL,
			event_type TEXT NOT NULL,
			subject TEXT NOT NULL,
			client_id TEXT NOT NULL,
			ip TEXT NOT NULL,
			risk INTEGER NOT NULL,
			data {blob},
			prev_hash {blob},
			hash {blob}
		)`,
		`CREATE INDEX audit_type ON audit (event_type, seq)`,
		`CREATE INDEX audit_subject ON audit (subject, seq)`,
		`CREATE INDEX audit_at ON audit (at)`,
		// audit_head is the one row every appender locks: it serialises
		// appends across instances and remembers the chain's tip even after
		// PruneAudit removed the record itself.
		`CREATE TABLE audit_head (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			seq BIGINT NOT NULL,
			hash {blob}
		)`,
		`INSERT INTO audit_head (id, seq) VALUES (1, 0)`,
	}},
	// The user's verified email rides with the grant into access tokens
	// (SPEC PX-7, PX-8). Existing codes and families get none: their
	// tokens carry no email until a user re-check fills it in.
	{version: 2, stmts: []string{
		`ALTER TABLE auth_codes ADD COLUMN email TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE auth_codes ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE refresh_families ADD COLUMN email TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE refresh_families ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE`,
	}},
}
