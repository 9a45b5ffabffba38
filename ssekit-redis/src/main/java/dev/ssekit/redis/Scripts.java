package dev.ssekit.redis;

/**
 * The Lua scripts of {@link RedisEventLog}: each one round trip, atomic. KEYS for all: the stream,
 * the sequence counter, the epoch, the epoch's base (the last sequence before its first entry).
 *
 * <p>Both share one rule for an epoch that can no longer be trusted: the epoch key is missing
 * (the data set was flushed, or Redis restarted without persistence), it names an epoch the
 * caller has left (Redis came back from a snapshot older than the caller's epoch), or it names the
 * caller's epoch with a counter below a sequence the caller has seen in it (came back from an older
 * snapshot). Then a new epoch starts with the caller's fresh candidate (random, never used before),
 * its base the last sequence the data set still holds: ids of the lost events are never given again,
 * and the stream's entry ids keep growing.
 */
final class Scripts {

    private Scripts() {
    }

    /**
     * ARGV 1..4: the caller's epoch, the highest sequence it has seen in it, a fresh candidate,
     * the epochs it has left (comma-separated, may be empty). Defines {@code epoch} and {@code seq}.
     */
    private static final String TRUSTED_EPOCH = """
            local epoch = redis.call('GET', KEYS[3])
            local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
            local left = false
            if epoch and ARGV[4] ~= '' then
              for e in string.gmatch(ARGV[4], '[^,]+') do
                if e == epoch then left = true end
              end
            end
            if (not epoch) or left or (epoch == ARGV[1] and seq < tonumber(ARGV[2])) then
              local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
              if newest[1] then
                local s = tonumber(string.match(newest[1][1], '-(%d+)$'))
                if s > seq then seq = s end
              end
              epoch = ARGV[3]
              redis.call('SET', KEYS[3], epoch)
              redis.call('SET', KEYS[4], seq)
              redis.call('SET', KEYS[2], seq)
            end
            """;

    /** Returns the epoch, its base and the counter (after starting a new epoch if needed). */
    static final String CHECK = TRUSTED_EPOCH + """
            return {epoch, tonumber(redis.call('GET', KEYS[4]) or '0'), seq}
            """;

    /**
     * KEYS[5]: the idempotency key's Redis key. ARGV 1..4 as {@link #TRUSTED_EPOCH}; 5: max length;
     * 6: the publisher's id or ""; 7: the idempotency key's time to live in ms, or "" for no key;
     * then the entry's field/value pairs. Returns the sequence, the event id, the epoch and 1 when
     * the key named an earlier append (whose result this is, nothing stored now), else 0. The entry
     * carries the epoch too ({@code x}), so readers see a new one. Every check comes before the
     * first write: a script error leaves nothing half-done.
     */
    static final String APPEND = """
            if ARGV[7] ~= '' then
              local done = redis.call('GET', KEYS[5])
              if done then
                local s, e, i = string.match(done, '^(%d+) ([^ ]+) (.*)$')
                return {tonumber(s), i, e, 1}
              end
            end
            """ + TRUSTED_EPOCH + """
            seq = seq + 1
            local id = ARGV[6]
            if id == '' then id = epoch .. '-' .. seq end
            local fields = {'i', id, 'x', epoch}
            for k = 8, #ARGV do fields[#fields + 1] = ARGV[k] end
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '0-' .. seq, unpack(fields))
            redis.call('SET', KEYS[2], seq)
            if ARGV[7] ~= '' then
              redis.call('SET', KEYS[5], seq .. ' ' .. epoch .. ' ' .. id, 'PX', ARGV[7])
            end
            return {seq, id, epoch, 0}
            """;
}
