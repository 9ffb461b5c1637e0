// Shims over librdkafka for Swift: typed, prefixed, non-variadic wrappers for the
// macros and variadic functions Swift cannot import. No logic lives here.
#ifndef SLUICE_CRDKAFKA_H
#define SLUICE_CRDKAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stddef.h>

/// `RD_KAFKA_PARTITION_UA`: let the partitioner choose.
static inline int32_t sluice_rd_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
static inline int64_t sluice_rd_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }
static inline int64_t sluice_rd_offset_end(void) { return RD_KAFKA_OFFSET_END; }
static inline int64_t sluice_rd_offset_stored(void) { return RD_KAFKA_OFFSET_STORED; }
static inline int64_t sluice_rd_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

/// `rd_kafka_producev` with the fields Sluice uses. A NULL `key`/`value` is sent as null
/// (a NULL value is a tombstone). `headers` (may be NULL) is owned by librdkafka on
/// success and stays the caller's to destroy on failure. `opaque` comes back in the
/// delivery report as the message's `_private`. Copies key and value.
rd_kafka_resp_err_t sluice_rd_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                      const void *key, size_t key_len,
                                      const void *value, size_t value_len,
                                      rd_kafka_headers_t *headers, int64_t timestamp_ms,
                                      void *opaque);

#endif
