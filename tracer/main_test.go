package tracer

import (
	"os"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// testHelpers are the workloads the tests start as processes of their own
// (testutil.HelperCmd). Test files add theirs in init.
var testHelpers = map[string]func(args []string) int{}

func TestMain(m *testing.M) {
	testutil.RunHelper(testHelpers)
	os.Exit(m.Run())
}
