package render

import (
	"encoding/json"
	"testing"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/proctree"
)

// The engines' fields go inside the container object, those not known
// left out, labels in a fixed order, confirmed only once answered.
func TestContainerJSONEngineFields(t *testing.T) {
	base := proctree.Container{ID: "abc", Namespace: "moby", ShimPID: 9, Source: "shim"}
	for _, c := range []struct {
		info *engine.Info
		want string
	}{
		{nil, `{"id":"abc","namespace":"moby","shim_pid":9,"source":"shim"}`},
		{&engine.Info{}, `{"id":"abc","namespace":"moby","shim_pid":9,"source":"shim"}`},
		{&engine.Info{Confirmed: engine.Unconfirmed}, `{"id":"abc","namespace":"moby","shim_pid":9,"source":"shim","confirmed":false}`},
		{&engine.Info{Name: "web-1", Image: "nginx:1.27", ImageID: "sha256:0f", Confirmed: engine.Confirmed,
			Labels: map[string]string{"io.kubernetes.pod.name": "p\"0", "com.docker.compose.service": "web"}},
			`{"id":"abc","namespace":"moby","shim_pid":9,"source":"shim","name":"web-1","image":"nginx:1.27","image_id":"sha256:0f",` +
				`"labels":{"com.docker.compose.service":"web","io.kubernetes.pod.name":"p\"0"},"confirmed":true}`},
	} {
		ctr := base
		ctr.Engine = c.info
		got := string(AppendContainerJSON(nil, &ctr))
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("not valid JSON: %s", got)
		}
	}
}
