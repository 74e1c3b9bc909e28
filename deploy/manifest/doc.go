// Package manifest reads pstrace's Kubernetes manifests (deploy/kubernetes)
// into the Kubernetes API types, strictly, and translates the DaemonSet's pod
// into `ctr run` flags, so that the container tests run the image with the
// privileges the manifest grants and no others.
package manifest
