package procurement

import "gorm.io/gorm/clause"

var forUpdate = clause.Locking{Strength: "UPDATE"}
