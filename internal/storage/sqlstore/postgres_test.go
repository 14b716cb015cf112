package sqlstore

import (
	"os"
	"testing"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/storagetest"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// schemaPrefix starts the name of every schema these tests create.
const schemaPrefix = "mcpgate_test_"

func TestPostgresConformance(t *testing.T) {
	if os.Getenv(pgtest.Env) == "" {
		t.Skip(pgtest.SkipMessage)
	}
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t, "postgres", pgtest.DSN(t, schemaPrefix)) })
}
