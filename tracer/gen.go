package tracer

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 -type event -type event_type -type lost_reason pstrace ../bpf/pstrace.bpf.c -- -I../bpf
