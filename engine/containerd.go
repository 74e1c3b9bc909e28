package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pstrace/pstrace/internal/pbwire"
)

// maxGRPCReply bounds a containerd reply: a container record with its spec
// is tens of KiB.
const maxGRPCReply = 16 << 20

// grpcNotFound is gRPC's NOT_FOUND status code.
const grpcNotFound = 5

// containerd asks containerd's Containers and Images services. gRPC is
// HTTP/2 with length-prefixed protobuf messages and the status in trailers;
// for two unary calls net/http (h2c on the socket) and protowire do it,
// where containerd's api module with grpc-go would add eight modules and
// about 7 MB to the binary.
type containerd struct {
	socket string
	client *http.Client
	health *health

	mu     sync.Mutex
	images map[Key]string // (namespace, image name) -> target digest
}

func newContainerd(socket string, warn func(string)) *containerd {
	return &containerd{
		socket: socket,
		client: &http.Client{Transport: unixTransport(socket, true)},
		health: newHealth("containerd", warn),
		images: make(map[Key]string),
	}
}

// call makes one unary gRPC call in namespace ns and returns the reply
// message, or the gRPC status code when it is not OK.
func (c *containerd) call(ctx context.Context, ns, method string, msg []byte) (reply []byte, code int, err error) {
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://containerd"+method, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	req.Header.Set("containerd-namespace", ns)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxGRPCReply))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", method, err)
	}
	// A failed call may carry its status in the headers alone.
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status")
	}
	if code, err = strconv.Atoi(status); err != nil {
		return nil, 0, fmt.Errorf("%s: no grpc-status in the reply", method)
	}
	if code != 0 {
		return nil, code, nil
	}
	if len(data) < 5 || data[0] != 0 || int(binary.BigEndian.Uint32(data[1:5])) != len(data)-5 {
		return nil, 0, fmt.Errorf("%s: malformed reply of %d bytes", method, len(data))
	}
	return data[5:], 0, nil
}

// container returns what containerd holds of container id in namespace ns
// (containers.v1.Containers/Get): found false when it has none.
func (c *containerd) container(ctx context.Context, ns, id string) (info Info, found bool, err error) {
	req := protowire.AppendTag(nil, 1, protowire.BytesType) // GetContainerRequest.id
	req = protowire.AppendString(req, id)
	reply, code, err := c.call(ctx, ns, "/containerd.services.containers.v1.Containers/Get", req)
	switch {
	case err != nil:
		return Info{}, false, err
	case code == grpcNotFound:
		return Info{}, false, nil
	case code != 0:
		return Info{}, false, fmt.Errorf("getting container %s: gRPC status %d", id, code)
	}
	// GetContainerResponse.container = 1; Container.labels = 2, image = 3.
	ctr, err := pbwire.Field(reply, 1)
	if err != nil {
		return Info{}, false, fmt.Errorf("getting container %s: %w", id, err)
	}
	var image string
	labels := map[string]string{}
	err = pbwire.EachField(ctr, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 2:
			k, err := pbwire.Field(v, 1)
			if err != nil {
				return err
			}
			val, err := pbwire.Field(v, 2)
			labels[string(k)] = string(val)
			return err
		case 3:
			image = string(v)
		}
		return nil
	})
	if err != nil {
		return Info{}, false, fmt.Errorf("getting container %s: %w", id, err)
	}
	info = Info{Name: labels[nerdctlNameLabel], Image: image, Labels: pickLabels(labels), Confirmed: Confirmed}
	if image != "" {
		info.ImageID = c.imageID(ctx, ns, image)
	}
	return info, true, nil
}

// imageID is the target digest of image name in namespace ns
// (images.v1.Images/Get), cached; "" when containerd has it no more.
func (c *containerd) imageID(ctx context.Context, ns, name string) string {
	k := Key{ns, name}
	c.mu.Lock()
	d, ok := c.images[k]
	c.mu.Unlock()
	if ok {
		return d
	}
	req := protowire.AppendTag(nil, 1, protowire.BytesType) // GetImageRequest.name
	req = protowire.AppendString(req, name)
	reply, code, err := c.call(ctx, ns, "/containerd.services.images.v1.Images/Get", req)
	if err != nil || code != 0 {
		return ""
	}
	// GetImageResponse.image = 1; Image.target = 3; Descriptor.digest = 2.
	img, err := pbwire.Field(reply, 1)
	if err != nil {
		return ""
	}
	target, err := pbwire.Field(img, 3)
	if err != nil {
		return ""
	}
	digest, err := pbwire.Field(target, 2)
	if err != nil {
		return ""
	}
	c.mu.Lock()
	if len(c.images) >= maxRecords {
		clear(c.images)
	}
	c.images[k] = string(digest)
	c.mu.Unlock()
	return string(digest)
}
