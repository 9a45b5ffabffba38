/**
 * ssekit on Redis: {@link dev.ssekit.redis.RedisBackplane} keeps the broadcasters of many nodes
 * in step through one Redis stream (Lettuce), so a hub scales out and a client may resume on any
 * node.
 */
module dev.ssekit.redis {
    requires transitive dev.ssekit;
    requires lettuce.core;

    exports dev.ssekit.redis;
}
