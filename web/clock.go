package web

import "time"

var timeNow = time.Now
