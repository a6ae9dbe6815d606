#!/bin/sh
# Benchmarks package search against FAISS on the same vectors and prints one
# table (progress on stderr). Needs Debian's python3-faiss and
# libopenblas0-pthread (/usr/bin/python3). Takes about half an hour on two
# shared cores; pass flags through, e.g. `-only exact,batch` or
# `-ann 200000x512`. Run from anywhere inside the repository.
set -e
cd "$(dirname "$0")/../.."
export OMP_WAIT_POLICY=PASSIVE
exec nice -n 10 go run ./bench/search "$@"
