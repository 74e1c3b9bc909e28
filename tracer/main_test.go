package tracer

import (
	"os"
	"testing"

	"pstrace/internal/testutil"
)

// testHelpers are the helper processes the tests start (testutil.HelperCmd);
// test files add theirs in init.
var testHelpers = map[string]func(args []string) int{}

func TestMain(m *testing.M) {
	testutil.RunHelper(testHelpers)
	os.Exit(m.Run())
}
