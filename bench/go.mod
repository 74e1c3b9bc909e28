module github.com/pstrace/pstrace/bench

go 1.26.0

require (
	github.com/cilium/ebpf v0.22.0
	github.com/pstrace/pstrace v0.0.0
	golang.org/x/sys v0.50.0
)

require (
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/pstrace/pstrace => ../

tool github.com/cilium/ebpf/cmd/bpf2go
