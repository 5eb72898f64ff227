//go:build !unix

package lake

import "time"

func processCPU() time.Duration { return 0 }
