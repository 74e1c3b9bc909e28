package manifest

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const manifestDir = "../kubernetes"

// The manifests decode strictly into the Kubernetes API types and refer to
// one another consistently, and the DaemonSet keeps its least-privilege shape.
func TestManifestsSchema(t *testing.T) {
	s, err := Load(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	ns := s.Namespace.Name
	for kind, got := range map[string]string{"ServiceAccount": s.ServiceAccount.Namespace, "ConfigMap": s.ConfigMap.Namespace,
		"Service": s.Service.Namespace, "DaemonSet": s.DaemonSet.Namespace} {
		if got != ns {
			t.Errorf("%s in namespace %q, want %q", kind, got, ns)
		}
	}
	ds := s.DaemonSet
	pod := &ds.Spec.Template.Spec
	labels := ds.Spec.Template.Labels
	if sel := ds.Spec.Selector; sel == nil || !subset(sel.MatchLabels, labels) || len(sel.MatchExpressions) > 0 {
		t.Errorf("DaemonSet selector %v does not select its pods %v", sel, labels)
	}
	if !subset(s.Service.Spec.Selector, labels) {
		t.Errorf("Service selector %v does not select the pods %v", s.Service.Spec.Selector, labels)
	}
	if pod.ServiceAccountName != s.ServiceAccount.Name {
		t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, s.ServiceAccount.Name)
	}
	c, err := s.Container()
	if err != nil {
		t.Fatal(err)
	}
	port := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" })
	if port < 0 {
		t.Fatalf("no container port named metrics")
	}
	metrics := c.Ports[port].ContainerPort
	if sp := s.Service.Spec.Ports; len(sp) != 1 || sp[0].TargetPort.String() != "metrics" {
		t.Errorf("Service ports %v, want one with targetPort metrics", sp)
	}
	if a := ds.Spec.Template.Annotations["prometheus.io/port"]; a != itoa(metrics) {
		t.Errorf("prometheus.io/port %q, want %d", a, metrics)
	}
	if addr := s.ConfigMap.Data["PSTRACE_METRICS_ADDR"]; !strings.HasSuffix(addr, ":"+itoa(metrics)) {
		t.Errorf("PSTRACE_METRICS_ADDR %q does not serve port %d", addr, metrics)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s probe %+v, want GET /healthz on port metrics", name, p)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}
	if len(pod.Tolerations) != 1 || pod.Tolerations[0].Operator != corev1.TolerationOpExists || pod.Tolerations[0].Key != "" {
		t.Errorf("tolerations %v, want one that tolerates every taint", pod.Tolerations)
	}
	if !pod.HostPID || pod.HostNetwork || pod.HostIPC {
		t.Errorf("hostPID %v, hostNetwork %v, hostIPC %v; want only hostPID", pod.HostPID, pod.HostNetwork, pod.HostIPC)
	}
	sc := c.SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("securityContext %+v: want privileged false, a read-only root, no privilege escalation, drop ALL", sc)
	}
	for _, m := range c.VolumeMounts {
		if !m.ReadOnly {
			t.Errorf("volume %s mounted read-write", m.Name)
		}
	}
	if _, err := s.CtrRunFlags(CtrOptions{HostPIDNS: "/proc/self/ns/pid"}); err != nil {
		t.Errorf("the DaemonSet has no ctr translation: %v", err)
	}
}

// Strict decoding: a misspelt field or a value of the wrong type fails.
func TestManifestsStrict(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(manifestDir, "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ from, to string }{
		{"hostPID: true", "hostPid: true"},
		{"readOnlyRootFilesystem: true", "readOnlyRootFilesystem: yes please"},
		{"      hostPID: true", "      hostPID: true\n      hostPID: false"},
	} {
		dir := t.TempDir()
		for _, f := range []string{"namespace.yaml", "serviceaccount.yaml", "configmap.yaml", "service.yaml"} {
			data, err := os.ReadFile(filepath.Join(manifestDir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(string(b), bad.from) {
			t.Fatalf("daemonset.yaml has no %q", bad.from)
		}
		doc := strings.Replace(string(b), bad.from, bad.to, 1)
		if err := os.WriteFile(filepath.Join(dir, "daemonset.yaml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil {
			t.Errorf("%q decoded without an error", bad.to)
		}
	}
}

func subset(sub, of map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
