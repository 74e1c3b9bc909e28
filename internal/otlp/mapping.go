package otlp

import "github.com/pstrace/pstrace/tracer"

// Attribute keys: the OpenTelemetry semantic conventions' names where one
// exists, pstrace.* for the rest.
const (
	keyPID          = "process.pid"
	keyTID          = "thread.id"
	keyPPID         = "process.parent_pid"
	keyVPID         = "process.vpid"
	keyUID          = "process.real_user.id"
	keyGID          = "pstrace.process.real_group.id"
	keyComm         = "process.executable.name"
	keyCreationTime = "process.creation.time"
	keyCgroupID     = "pstrace.process.cgroup.id"
	keyFilename     = "process.executable.path"
	keyArgs         = "process.command_args"
	keyArgsCount    = "process.args_count"
	keyArgsTrunc    = "pstrace.process.args_truncated"
	keyExitCode     = "process.exit.code"
	keySignal       = "pstrace.process.exit.signal"
	keyCoreDumped   = "pstrace.process.exit.core_dumped"
	keyDuration     = "pstrace.process.duration_ns"
	keyContainerID  = "container.id"
	keyContainerNS  = "pstrace.container.namespace"
	keyShimPID      = "pstrace.container.shim_pid"
	keySource       = "pstrace.container.source"
	keyRole         = "pstrace.process.role"
	keyName         = "container.name"
	keyImage        = "container.image.name"
	keyImageTags    = "container.image.tags"
	keyImageID      = "container.image.id"
	keyConfirmed    = "pstrace.container.confirmed"
	keyLabel        = "container.label.<key>" // a template: <key> is the label's name
	keyPodName      = "k8s.pod.name"
	keyPodNamespace = "k8s.namespace.name"
	keyPodUID       = "k8s.pod.uid"
	keyK8sContainer = "k8s.container.name"
	keyLostCount    = "pstrace.lost.count"
	keyLostReason   = "pstrace.lost.reason"
)

// labelPrefix is keyLabel without its template part.
const labelPrefix = "container.label."

// k8sLabels are the Kubernetes labels the engines keep that the
// conventions name attributes for.
var k8sLabels = [...]struct{ label, key string }{
	{"io.kubernetes.pod.name", keyPodName},
	{"io.kubernetes.pod.namespace", keyPodNamespace},
	{"io.kubernetes.pod.uid", keyPodUID},
	{"io.kubernetes.container.name", keyK8sContainer},
}

// Field is one row of the mapping from an event to a log record's attributes.
type Field struct {
	Key     string // attribute key
	Type    string // OTLP value type: string, int, bool or string[]
	Events  string // the events whose records carry it
	From    string // the field of pstrace's JSON Lines it carries, or where it comes from
	Meaning string
}

// Mapping is the one table of what a record carries; the README's "OTLP
// export" section repeats it and a test keeps the two equal.
var Mapping = []Field{
	{keyPID, "int", "fork, exec, exit, rename", "`pid`", "process id (thread group id); for fork, the new process"},
	{keyTID, "int", "fork, exec, exit, rename", "`tid`", "for exec the thread that called execve, for exit the last thread"},
	{keyPPID, "int", "fork, exec, exit, rename", "`ppid`", "the real parent's pid"},
	{keyVPID, "int", "fork, exec, exit, rename", "`ns_pid`", "pid inside the process's own pid namespace"},
	{keyUID, "int", "fork, exec, exit, rename", "`uid`", "real user id"},
	{keyGID, "int", "fork, exec, exit, rename", "`gid`", "real group id (the conventions name no group id)"},
	{keyComm, "string", "fork, exec, exit, rename", "`comm`", "command name as the kernel keeps it (at most 15 bytes); for rename, the new name"},
	{keyCreationTime, "string", "fork, exec, exit, rename", "start time", "when the process started, RFC 3339 in UTC with nanoseconds"},
	{keyCgroupID, "int", "fork, exec, exit, rename", "`cgroup_id`", "cgroup v2 id"},
	{keyContainerID, "string", "fork, exec, exit, rename in a container", "`container.id`", "container id"},
	{keyContainerNS, "string", "fork, exec, exit, rename in a container", "`container.namespace`", "containerd namespace (`moby`, `k8s.io`, ...)"},
	{keyShimPID, "int", "fork, exec, exit, rename in a container", "`container.shim_pid`", "pid of the container's shim, 0 when its cgroup named it"},
	{keySource, "string", "fork, exec, exit, rename in a container", "`container.source`", "`shim` or `cgroup`: what attributed it"},
	{keyRole, "string", "fork, exec, exit, rename under a shim", "`role`", "`shim`, `runtime`, `init` or `exec`: what the process does for the container"},
	{keyName, "string", "fork, exec, exit, rename in a container the engines name", "`container.name`", "the name the user gave the container"},
	{keyImage, "string", "fork, exec, exit, rename in a container the engines name", "`container.image`", "the image's name, without its tag or digest"},
	{keyImageTags, "string[]", "fork, exec, exit, rename in a container the engines name", "`container.image`", "the image's tag, when the user wrote one"},
	{keyImageID, "string", "fork, exec, exit, rename in a container the engines name", "`container.image_id`", "Docker: the image id; containerd: the image's target digest"},
	{keyConfirmed, "bool", "fork, exec, exit, rename in a container the engines name", "`container.confirmed`", "an engine or the shim's bundle vouches for the id (true), or every engine denies it (false)"},
	{keyLabel, "string", "fork, exec, exit, rename in a container the engines name", "`container.labels`", "each label the engines keep (see Names from the engines)"},
	{keyPodName, "string", "fork, exec, exit, rename in a Kubernetes pod", "`container.labels`", "label `io.kubernetes.pod.name`"},
	{keyPodNamespace, "string", "fork, exec, exit, rename in a Kubernetes pod", "`container.labels`", "label `io.kubernetes.pod.namespace`"},
	{keyPodUID, "string", "fork, exec, exit, rename in a Kubernetes pod", "`container.labels`", "label `io.kubernetes.pod.uid`"},
	{keyK8sContainer, "string", "fork, exec, exit, rename in a Kubernetes pod", "`container.labels`", "label `io.kubernetes.container.name`"},
	{keyFilename, "string", "exec", "`filename`", "the path given to execve"},
	{keyArgs, "string[]", "exec", "`args`", "argv as the new program sees it"},
	{keyArgsCount, "int", "exec", "`args`", "number of arguments kept"},
	{keyArgsTrunc, "bool", "exec whose argv was cut", "`args_truncated`", "true: argv was longer than what was kept"},
	{keyExitCode, "int", "exit", "`exit_code`", "exit code, 0 when a signal killed the process"},
	{keySignal, "int", "exit by a signal", "`signal`", "the signal that ended the process"},
	{keyCoreDumped, "bool", "exit by a signal", "`core_dumped`", "the signal dumped core"},
	{keyDuration, "int", "exit", "`duration_ns`", "process lifetime in nanoseconds"},
	{keyLostCount, "int", "lost", "`count`", "events the kernel dropped"},
	{keyLostReason, "string", "lost", "`reason`", "`ring_full` or `followed_set_full`"},
}

// EventName is the log record's event name for each event type.
var EventName = map[tracer.Type]string{
	tracer.TypeFork:   "process.fork",
	tracer.TypeExec:   "process.exec",
	tracer.TypeExit:   "process.exit",
	tracer.TypeRename: "process.rename",
	tracer.TypeLost:   "pstrace.lost",
}

// eventNames is EventName as an array, for the event path.
var eventNames = func() (a [tracer.TypeLost + 1]string) {
	for t, n := range EventName {
		a[t] = n
	}
	return a
}()
