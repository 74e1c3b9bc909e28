package manifest

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// ctrDefaultCaps is the capability set ctr gives a container (containerd's
// default OCI spec, `ctr oci spec`); ctr has no "--cap-drop ALL", so
// dropping ALL drops each of these.
var ctrDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// CtrOptions is what the translation needs from the machine and the test.
type CtrOptions struct {
	// HostPIDNS is a path to the host's pid namespace, for hostPID
	// (/proc/PID/ns/pid of any host process the caller may read).
	HostPIDNS string
	// WithoutCap leaves out one capability the manifest adds ("BPF"), to
	// show that it is needed.
	WithoutCap string
	// WithoutHostPID and WithoutMount (a mountPath) leave out hostPID or a
	// mount, likewise.
	WithoutHostPID bool
	WithoutMount   string
	// CgroupNS and Cgroup, when set, put the container in this cgroup and
	// join it to this cgroup namespace (a /proc/PID/ns/cgroup path): what
	// containerd's CRI does to every pod on a cgroup v2 host, which the
	// manifest cannot say.
	CgroupNS, Cgroup string
}

// CtrRunFlags translates the DaemonSet's pod and its container into `ctr
// run` flags: pid namespace, capabilities, read-only root, seccomp, no new
// privileges, host mounts (read-only, recursively where asked), memory and
// CPU limits, and the ConfigMap's variables. A field that matters to
// privileges and has no translation is an error, so the manifest cannot
// grant what the test does not exercise.
func (s *Set) CtrRunFlags(o CtrOptions) ([]string, error) {
	pod := &s.DaemonSet.Spec.Template.Spec
	c, err := s.Container()
	if err != nil {
		return nil, err
	}
	if pod.HostIPC || pod.HostNetwork || pod.ShareProcessNamespace != nil || pod.HostUsers != nil {
		return nil, fmt.Errorf("hostIPC, hostNetwork, shareProcessNamespace and hostUsers have no translation")
	}
	if pod.SecurityContext != nil && !reflect.ValueOf(*pod.SecurityContext).IsZero() {
		return nil, fmt.Errorf("a pod-level securityContext has no translation: set the container's")
	}
	var flags []string
	if pod.HostPID && !o.WithoutHostPID {
		flags = append(flags, "--with-ns", "pid:"+o.HostPIDNS)
	}
	if o.CgroupNS != "" {
		flags = append(flags, "--cgroup", o.Cgroup, "--with-ns", "cgroup:"+o.CgroupNS)
	}
	sc, err := securityFlags(c.SecurityContext, o.WithoutCap)
	if err != nil {
		return nil, err
	}
	flags = append(flags, sc...)
	mounts, err := mountFlags(pod, c, o.WithoutMount)
	if err != nil {
		return nil, err
	}
	flags = append(flags, mounts...)
	if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		flags = append(flags, "--memory-limit", strconv.FormatInt(m.Value(), 10))
	}
	if cpu, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		// --cpus is CFS quota per period, in CPUs: 1000 millicores = 1.
		flags = append(flags, "--cpus", strconv.FormatFloat(float64(cpu.MilliValue())/1000, 'f', -1, 64))
	}
	env, err := s.env(c)
	if err != nil {
		return nil, err
	}
	for _, e := range env {
		flags = append(flags, "--env", e)
	}
	return flags, nil
}

func securityFlags(sc *corev1.SecurityContext, without string) ([]string, error) {
	if sc == nil {
		return nil, fmt.Errorf("the container has no securityContext")
	}
	if sc.SELinuxOptions != nil || sc.WindowsOptions != nil || sc.RunAsGroup != nil || sc.ProcMount != nil || sc.AppArmorProfile != nil {
		return nil, fmt.Errorf("seLinuxOptions, windowsOptions, runAsGroup, procMount and appArmorProfile have no translation")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		return nil, fmt.Errorf("runAsUser must be 0 (ctr runs the image's user, root)")
	}
	var flags []string
	if sc.Privileged != nil && *sc.Privileged {
		flags = append(flags, "--privileged")
	}
	// ctr sets no_new_privs unless told otherwise.
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		flags = append(flags, "--allow-new-privs")
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		flags = append(flags, "--read-only")
	}
	if p := sc.SeccompProfile; p != nil {
		switch p.Type {
		case corev1.SeccompProfileTypeRuntimeDefault:
			flags = append(flags, "--seccomp")
		case corev1.SeccompProfileTypeUnconfined:
		default:
			return nil, fmt.Errorf("seccompProfile %s has no translation", p.Type)
		}
	}
	if sc.Capabilities == nil {
		return nil, fmt.Errorf("the container drops no capabilities")
	}
	for _, d := range sc.Capabilities.Drop {
		if d == "ALL" {
			for _, c := range ctrDefaultCaps {
				flags = append(flags, "--cap-drop", c)
			}
			continue
		}
		flags = append(flags, "--cap-drop", "CAP_"+string(d))
	}
	found := without == ""
	for _, a := range sc.Capabilities.Add {
		if string(a) == without {
			found = true
			continue
		}
		flags = append(flags, "--cap-add", "CAP_"+string(a))
	}
	if !found {
		return nil, fmt.Errorf("the container does not add %s", without)
	}
	return flags, nil
}

// mountFlags binds each hostPath volume the container mounts.
func mountFlags(pod *corev1.PodSpec, c *corev1.Container, without string) ([]string, error) {
	var flags []string
	found := without == ""
	for _, m := range c.VolumeMounts {
		if m.MountPath == without {
			found = true
			continue
		}
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || pod.Volumes[i].HostPath == nil {
			return nil, fmt.Errorf("volume %q: only hostPath volumes have a translation", m.Name)
		}
		if m.SubPath != "" || m.SubPathExpr != "" || (m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone) {
			return nil, fmt.Errorf("volume mount %q: subPath and mount propagation have no translation", m.Name)
		}
		opts := "rbind:rw"
		if m.ReadOnly {
			opts = "rbind:ro"
			if r := m.RecursiveReadOnly; r != nil && *r != corev1.RecursiveReadOnlyDisabled {
				opts = "rbind:rro" // runc's recursive read-only bind
			}
		}
		flags = append(flags, "--mount", "type=bind,src="+pod.Volumes[i].HostPath.Path+",dst="+m.MountPath+",options="+opts)
	}
	if !found {
		return nil, fmt.Errorf("the container mounts nothing at %s", without)
	}
	return flags, nil
}

// env is the container's variables: the ConfigMap's, then its own.
func (s *Set) env(c *corev1.Container) ([]string, error) {
	var env []string
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil || from.ConfigMapRef.Name != s.ConfigMap.Name || from.Prefix != "" {
			return nil, fmt.Errorf("envFrom: only the ConfigMap %q has a translation", s.ConfigMap.Name)
		}
		keys := make([]string, 0, len(s.ConfigMap.Data))
		for k := range s.ConfigMap.Data {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			env = append(env, k+"="+s.ConfigMap.Data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			return nil, fmt.Errorf("env %s: valueFrom has no translation", e.Name)
		}
		env = append(env, e.Name+"="+e.Value)
	}
	return env, nil
}
