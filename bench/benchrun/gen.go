package main

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 floor ../floor/floor.bpf.c -- -I../../bpf
