package containertest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/otlp/otlptest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// A `docker run`'s records reach a real OpenTelemetry Collector with the
// container's id, and the name, image and labels the engines give, in every
// one of them; its command's exec has the role init.
func TestDockerOTLPRecordsNamed(t *testing.T) {
	testutil.RequireDocker(t)
	col := otlptest.Start(t)
	s := watchEvents(t, "--otlp-endpoint", "grpc://"+col.GRPC)
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	cidfile := filepath.Join(t.TempDir(), "cid")
	script := "/bin/true; : " + name
	testutil.Run(t, "docker", "run", "--rm", "--cidfile", cidfile, "--name", name, "--label", testutil.TestLabel,
		"--label", "com.docker.compose.service=web", testutil.TestImage, "sh", "-c", script)
	s.sync()
	raw, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	id := string(raw)
	imageID := testutil.Run(t, "docker", "image", "inspect", "-f", "{{.Id}}", testutil.TestImage)
	shell := col.WaitFor("the exec of the container's shell", func(r otlptest.Record) bool {
		v, _ := r.Str("container.id")
		return v == id && r.EventName == "process.exec" && slices.Contains(argsOf(r), script)
	})
	if role, _ := shell.Str("pstrace.process.role"); role != "init" {
		t.Errorf("the container's shell has role %q, want init", role)
	}
	imageName, tag, _ := strings.Cut(testutil.TestImage, ":")
	want := map[string]string{
		"container.name": name, "container.image.name": imageName, "container.image.tags": fmt.Sprint([]any{tag}),
		"container.image.id": imageID, "pstrace.container.confirmed": "true", "pstrace.container.namespace": "moby",
		"container.label.com.docker.compose.service": "web",
	}
	n := 0
	for _, r := range col.Records() {
		if v, _ := r.Str("container.id"); v != id {
			continue
		}
		n++
		for k, w := range want {
			if got := fmt.Sprint(r.Attrs[k]); got != w {
				t.Errorf("%s record of pid %v: %s = %s, want %s", r.EventName, r.Attrs["process.pid"], k, got, w)
			}
		}
	}
	t.Logf("%d records of container %s", n, id[:12])
}

// argsOf is an exec record's argv.
func argsOf(r otlptest.Record) []string {
	var out []string
	if args, ok := r.Attrs["process.command_args"].([]any); ok {
		for _, a := range args {
			out = append(out, fmt.Sprint(a))
		}
	}
	return out
}
