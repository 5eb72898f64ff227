package lstm

// Kernels names the kernel sets this machine can run, portable first.
func Kernels() []string {
	if haveAccel {
		return []string{"portable", "avx2"}
	}
	return []string{"portable"}
}

// UseKernels selects a kernel set named by Kernels until the returned
// function restores the previous one. Not for parallel tests.
func UseKernels(name string) (restore func()) {
	prev := accel
	accel = name == "avx2" && haveAccel
	return func() { accel = prev }
}
