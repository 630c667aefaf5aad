package civil

import "time"

// China is China Standard Time (UTC+8), the zone in which months, years and working days are cut
// and times are shown to users. China has kept no daylight saving since 1991, so a fixed zone is
// exact and needs no tz database on the machine (Asia/Shanghai in SQL is the same clock).
var China = time.FixedZone("CST", 8*3600)
