-- One recording's partition of a store table (list on rec), itself partitioned by day when
-- {by_day} says so. Created apart and attached: ATTACH takes only SHARE UPDATE EXCLUSIVE on
-- the parent, so other recorders and readers go on while it happens.
CREATE TABLE {partition} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) {by_day};
ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({rec});
