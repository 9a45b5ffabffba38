/**
 * ssekit on Redis: {@link dev.ssekit.redis.RedisEventLog} is an event log on one Redis stream
 * (Lettuce), shared by the broadcasters of many nodes, so a hub scales out and a client may resume
 * on any node.
 */
module dev.ssekit.redis {
    requires transitive dev.ssekit;
    requires lettuce.core;

    exports dev.ssekit.redis;
}
