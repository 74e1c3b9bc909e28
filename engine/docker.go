package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// maxDockerReply bounds an inspect or list reply; an inspect is a few KiB.
const maxDockerReply = 16 << 20

// docker asks the Docker Engine API on its unix socket. Plain net/http, not
// the Docker SDK: pstrace needs three endpoints, and the SDK would bring
// dozens of modules (OpenTelemetry, the OCI and distribution packages).
// Unversioned paths: every dockerd serves them at its own API version.
type docker struct {
	socket string
	client *http.Client
	health *health
}

func newDocker(socket string, warn func(string)) *docker {
	return &docker{
		socket: socket,
		client: &http.Client{Transport: unixTransport(socket, false)},
		health: newHealth("docker", warn),
	}
}

// get sends GET path and returns the response; the caller closes its body.
func (d *docker) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return nil, err
	}
	return d.client.Do(req)
}

// inspect returns what Docker says of container id: found false when it
// has no such container.
func (d *docker) inspect(ctx context.Context, id string) (info Info, found bool, err error) {
	resp, err := d.get(ctx, "/containers/"+url.PathEscape(id)+"/json")
	if err != nil {
		return Info{}, false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return Info{}, false, nil
	default:
		return Info{}, false, fmt.Errorf("inspect %s: %s", id, resp.Status)
	}
	var c struct {
		Name   string
		Image  string // the image id
		Config struct {
			Image  string // as the user wrote it
			Labels map[string]string
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDockerReply)).Decode(&c); err != nil {
		return Info{}, false, fmt.Errorf("inspect %s: %w", id, err)
	}
	return Info{
		Name:      strings.TrimPrefix(c.Name, "/"),
		Image:     c.Config.Image,
		ImageID:   c.Image,
		Labels:    pickLabels(c.Config.Labels),
		Confirmed: Confirmed,
	}, true, nil
}

// list returns every container Docker has, running or not.
func (d *docker) list(ctx context.Context) (map[string]Info, error) {
	resp, err := d.get(ctx, "/containers/json?all=1")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing containers: %s", resp.Status)
	}
	var cs []struct {
		ID      string `json:"Id"`
		Names   []string
		Image   string
		ImageID string
		Labels  map[string]string
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDockerReply)).Decode(&cs); err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make(map[string]Info, len(cs))
	for _, c := range cs {
		var name string
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out[c.ID] = Info{Name: name, Image: c.Image, ImageID: c.ImageID, Labels: pickLabels(c.Labels), Confirmed: Confirmed}
	}
	return out, nil
}

// dockerEvent is one container event of GET /events: the attributes hold
// the container's labels, its name and its image as the user wrote it.
type dockerEvent struct {
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
}

func (e *dockerEvent) info() Info {
	a := e.Actor.Attributes
	return Info{Name: a["name"], Image: a["image"], Labels: pickLabels(a), Confirmed: Confirmed}
}

// containerEvents is the query of the event stream: container events only.
var containerEvents = "/events?filters=" + url.QueryEscape(`{"type":["container"]}`)

// subscribe reads Docker's event stream until it ends or ctx is done,
// calling connected once the stream is open and fn for each event. Only
// the wait for the stream to open is bounded by timeout: an idle stream
// is normal.
func (d *docker) subscribe(ctx context.Context, timeout time.Duration, connected func(), fn func(*dockerEvent)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opened := make(chan struct{})
	var hung atomic.Bool
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-opened:
		case <-t.C:
			hung.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := d.get(ctx, containerEvents)
	if err != nil {
		if hung.Load() {
			return fmt.Errorf("event stream: %w", context.DeadlineExceeded)
		}
		return err
	}
	close(opened)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event stream: %s", resp.Status)
	}
	connected()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev dockerEvent
		if err := dec.Decode(&ev); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
		fn(&ev)
	}
}
