package preprocess

import (
	"os"
	"strconv"
)

func init() {
	if v, err := strconv.Atoi(os.Getenv("SCALE_MARGIN")); err == nil {
		scaleMargin = v
	}
}
