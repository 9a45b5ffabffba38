package dev.ssekit.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What the nodes sharing one Redis know of each other: each node's entries (a key and a value each,
 * in a hash of the node's own that lives as long as the node heartbeats), and a stream of notices
 * every node reads. The hub keeps its subscribers here: every node lists every node's, and hears of
 * every node's subscriptions starting and ending.
 *
 * <p>Keys, all in the hash slot of {@code {prefix}}: {@code {prefix}:presence:nodes} (a sorted set:
 * each node with the Redis time its heartbeat expires), {@code {prefix}:presence:node:<node>} (its
 * entries), {@code {prefix}:presence:farewell:<node>} (each entry's farewell notices),
 * {@code {prefix}:presence:seq:<node>} (the sequence of the node's last write Redis ran),
 * {@code {prefix}:presence:dropped:<node>} (the node's dropped mark: the Redis time, in µs, it was
 * dropped), {@code {prefix}:presence:epoch} (the data set's epoch: the Redis time, in µs, it was made
 * at; made again when missing, so a new epoch means Redis lost every key), {@code {prefix}:presence:version}
 * (changes with every change of what {@link #list()} answers; see below), {@code {prefix}:presence:notices}
 * (the stream, {@code MAXLEN ~}). A node heartbeats every third of its time to live. A node whose
 * heartbeat expired (killed, cut off from Redis) is <em>dropped</em> by the next heartbeat of another
 * node or the next listing, whichever comes first: in one script (atomic, so exactly once however many
 * nodes notice, and never half done) it leaves the sorted set, its entries are deleted, every entry's
 * farewell notices are appended to the stream and it is marked dropped. A node that leaves
 * ({@link #close()}) appends its farewells the same way. A node's keys otherwise outlive its heartbeat by
 * {@link #KEPT} (garbage collection only, should no node ever drop it). Each node gets a new random id
 * when built, so a restarted process never answers for the entries of its previous run.
 *
 * <p><b>Repair.</b> Each node remembers its entries (what it last wrote of each: value, put notices,
 * farewell; never read back from Redis), the sequence of its last write Redis answered, the epoch it
 * last saw, when it sent the last write Redis answered, and the highest version it was given. Every
 * heartbeat (and every change) tells it whether it is marked dropped, whether the node set held it,
 * the epoch, and its write sequence as Redis holds it. Two repairs follow, both writing every entry of
 * the node again in one script ({@code REWRITE}, O(entries of the node); so is a listing, O(all entries)):
 * <ul>
 * <li><em>Announced again</em> (the entries' put notices appended again, after the farewells) when the
 * node was dropped, its farewells said: it is marked dropped (a mark it has not answered yet), or it is
 * absent from the node set it had joined, with no mark, and either the epoch is the one it knew (Redis
 * kept its data: the node was dropped and its mark expired, after a cut-off longer than {@link #KEPT})
 * or no write of it was answered for its time to live (its heartbeat may have expired and its farewells
 * been said before Redis lost them). The need is remembered until a rewrite that announces succeeds
 * (one that fails, or whose answer is lost, is tried again by each heartbeat, and no change is written
 * meanwhile), and the rewrite deletes the mark in the same script. An entry is announced once: a put
 * written by the change that found the drop appended its own notices (it is not announced again, nor
 * is one written after the drop whose answer was lost: the node still marked dropped, the hash, which
 * the drop deleted, holds it with that value), and
 * a rewrite attempt whose answer was lost but which ran (Redis holds its write sequence or a later one)
 * is not announced again by the next attempt. While the node is marked dropped, a removal appends no
 * notices (its farewell said it).</li>
 * <li><em>Re-listed silently</em> (nothing announced again: nobody heard a farewell) when Redis lost
 * writes it had answered: the node's write sequence in Redis is lower than its own (a failover to a
 * replica the writes had not reached, a restart from an older snapshot), its hash is gone while it holds
 * entries, or it is absent from the node set with a new epoch (FLUSHALL, a restart without persistence)
 * while some write of it was answered within its time to live (so its heartbeat cannot have expired
 * before: no farewell was said). A put lost so is listed again, a removal lost so is not (no ghost);
 * the notices Redis lost from the stream are not appended again (readers heard them, if they read them
 * before the loss).</li>
 * </ul>
 * After a failed write, or with its hash gone, the node writes its entries again the same way, and
 * appends (in the same script) the notices of each change whose write failed and that Redis does not
 * show: a put's if the hash does not hold its entry with that value, a removal's if it still holds the
 * entry (so a write that reached Redis though its answer was lost is not announced twice). Until then
 * it keeps the notices of the one failed write per entry.
 * Limits: a rollback to a snapshot taken before this node joined (or holding a dropped mark the node
 * answered since) announces its entries again, a repeat; so does any cut-off longer than the time to live
 * (no write of the node answered for that long, measured to the arrival of the answer that ends it)
 * when no node dropped it meanwhile, whether or not the node set still holds it: the node cannot tell it
 * from a drop Redis lost since (FLUSHALL, or a rollback to before the drop, which leaves the node in
 * the set with no mark); so does a put whose write failed, announced again after a drop whose mark Redis
 * lost since, though the put ran after the drop; and a removal written by the change that finds
 * the node absent without a mark appends its notices after the farewell. Each of these repeats a
 * notice; none loses one. The time-to-live test assumes the node's and Redis's clocks run at the same rate.
 *
 * <p><b>Versions.</b> Every change sets the version to the highest of the stored version + 1, the
 * highest version the writing node was given + 1, and Redis's time in µs; a listing whose stored version
 * is missing or lower than the highest the listing node was given gets a new one the same way. So a
 * version is never given again for another listing while Redis's clock does not go back, even after
 * Redis lost writes (a rollback, FLUSHALL): the API's ETag never names two listings.
 *
 * <p>A change and its notices are one script (atomic): a listing and the stream's position agree.
 * Scripts go with {@code EVAL} (Redis caches them by digest): a restarted Redis, which has lost its
 * script cache, needs nothing loaded again.
 * Writes run on one thread of the presence's own; {@link #put} and {@link #remove} never block and
 * never throw for Redis failures (they are logged and repaired as above). What waits to be written is
 * bounded: the changes not yet taken are kept per key, the newest state of each (value, notices and
 * farewell; memory bounded by the live keys plus the keys Redis may hold — those written, or whose
 * write failed, and not known removed — however long Redis does not answer: a key put and removed
 * before the writer took it leaves nothing, its notices neither, as nobody heard of it), with the notices of
 * every change of the key in call order (a key's notices always in order; notices of different keys
 * may be appended in another order than called). A key's coalesced changes are written as one change
 * carrying all their notices: should that write fail, the next rewrite decides on all of them as on
 * one change's (a put's: appended unless Redis holds the entry with the new value; a removal's:
 * appended if Redis still holds the entry, so a put then a removal of an entry Redis never held
 * announces neither). After a write failed, nothing more is taken until a heartbeat reaches Redis and
 * its rewrite ran, so each failed write's notices are decided once, before the later changes: a rewrite
 * whose answer was lost (one that outlasts the command timeout) counts as run once a heartbeat finds
 * Redis holding its write sequence while it is the last write sent. The heartbeat then resumes the
 * changes outside the lock its writes hold, one change at a time, so {@link #close()} stops them.
 * Notices waiting beyond {@link #PENDING_NOTICE_CHARS} are dropped, a key's all together (never a
 * put's without the removal's that followed it), counted ({@link #droppedNotices()}) and logged, never
 * silently; the entries themselves are never dropped.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public final class RedisPresence implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RedisPresence.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Redis time in ms ({@code now}) and µs ({@code micros}), in a script; {@code bump(key, seen)}: sets
     * the version to the highest of its value + 1, {@code seen} + 1 (the highest version the caller
     * has been given) and Redis's time in microseconds, and returns it; {@code version(key, seen)}
     * reads it, giving it a new value as {@code bump} does when it is missing or lower than
     * {@code seen} (Redis lost it or went back: FLUSHALL, a restart without persistence, a failover to
     * a replica the last writes had not reached). A version is so never given again for another
     * listing while Redis's clock does not go back: every change's version is at least the time it was
     * made (a script runs for well over a microsecond, and bumps once), so after Redis lost writes the
     * next change's version is above every version given before, and a listing read by a node that was
     * given a higher version than Redis holds gets a new one. {@code num(key)} reads a number, 0 when
     * missing.
     */
    private static final String NOW = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local function num(k)
              return tonumber(redis.call('GET', k) or '0') or 0
            end
            local function bump(k, seen)
              local v = math.max(num(k) + 1, seen + 1, micros)
              redis.call('SET', k, string.format('%.0f', v))
              return v
            end
            local function version(k, seen)
              local v = num(k)
              if v == 0 or v < seen then
                v = math.max(seen + 1, micros)
                redis.call('SET', k, string.format('%.0f', v))
              end
              return v
            end
            """;

    /**
     * How long a node's hashes outlive its heartbeat when no node drops it (garbage collection only),
     * and how long a dropped node's mark lives; the default of {@code kept} (tests set another).
     */
    static final Duration KEPT = Duration.ofHours(1);

    /**
     * Script functions: {@code bye} appends a farewell hash's notices (each value a JSON array of
     * [topic, data] pairs) to the stream and deletes it; {@code reap} drops every node whose
     * heartbeat expired (not this one: callers renew theirs first), marks each dropped (a key the
     * dropped node deletes once it has announced its entries again: a mark, not an answer, so a
     * script of that node run late, after its caller gave up waiting, cannot consume it unseen; its
     * value is the drop's Redis time in µs, so a node tells a new drop from one it knows) and returns
     * how many it dropped (the caller bumps the version once); {@code arrive} renews this node's
     * heartbeat and returns whether the node set did not hold it, the node's dropped mark ('' when
     * none), the data set's epoch (made when missing: a new one means Redis lost every key) and the
     * node's write sequence as Redis holds it (0 when missing). Follows {@link #NOW}.
     */
    private static final String FAREWELLS = """
            local function bye(stream, farewell, maxlen)
              for _, v in ipairs(redis.call('HVALS', farewell)) do
                for _, p in ipairs(cjson.decode(v)) do
                  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 't', p[1], 'd', p[2])
                end
              end
              redis.call('DEL', farewell)
            end
            local function reap(nodes, stream, hashPrefix, farewellPrefix, droppedPrefix, maxlen, kept, now)
              local dead = redis.call('ZRANGEBYSCORE', nodes, '-inf', now)
              for _, n in ipairs(dead) do
                redis.call('ZREM', nodes, n)
                redis.call('DEL', hashPrefix .. n)
                bye(stream, farewellPrefix .. n, maxlen)
                redis.call('SET', droppedPrefix .. n, string.format('%.0f', micros), 'PX', kept)
              end
              return #dead
            end
            local function keep(key, ms)
              if redis.call('EXISTS', key) == 1 then
                redis.call('PEXPIRE', key, ms)
              end
            end
            local function arrive(nodes, node, ttl, dropped, seq, epoch)
              local added = redis.call('ZADD', nodes, now + ttl, node)
              redis.call('SET', epoch, string.format('%.0f', micros), 'NX')
              return added, redis.call('GET', dropped) or '', redis.call('GET', epoch), num(seq)
            end
            """;

    /**
     * KEYS: hash, nodes, version, notices, farewell, dropped, seq, epoch. ARGV: node, ttl ms, maxlen,
     * op (put/del), field, value, kept ms, F, write sequence, highest version seen, then F farewell
     * topic/data pairs, then the notices' topic/data pairs. Returns whether the hash existed before,
     * the dropped mark ('' when none: when there is one, a removal's notices are not appended, its
     * farewell was, and the caller announces its other entries again), whether the node set did not
     * hold this node, the epoch, the node's write sequence as Redis held it before, and the version.
     */
    private static final String CHANGE = NOW + FAREWELLS + """
            local added, mark, epoch, stored = arrive(KEYS[2], ARGV[1], tonumber(ARGV[2]), KEYS[6], KEYS[7], KEYS[8])
            local existed = redis.call('EXISTS', KEYS[1])
            local f = tonumber(ARGV[8])
            if ARGV[4] == 'put' then
              redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
              if f > 0 then
                local farewell = {}
                for i = 1, f do
                  farewell[i] = { ARGV[9 + 2 * i], ARGV[10 + 2 * i] }
                end
                redis.call('HSET', KEYS[5], ARGV[5], cjson.encode(farewell))
              else
                redis.call('HDEL', KEYS[5], ARGV[5])
              end
            else
              redis.call('HDEL', KEYS[1], ARGV[5])
              redis.call('HDEL', KEYS[5], ARGV[5])
            end
            keep(KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[7]))
            keep(KEYS[5], tonumber(ARGV[2]) + tonumber(ARGV[7]))
            redis.call('SET', KEYS[7], ARGV[9], 'PX', tonumber(ARGV[2]) + tonumber(ARGV[7]))
            local v = bump(KEYS[3], tonumber(ARGV[10]))
            if ARGV[4] == 'put' or mark == '' then
              for i = 11 + 2 * f, #ARGV, 2 do
                redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[i], 'd', ARGV[i + 1])
              end
            end
            return { existed, mark, added, epoch, stored, v }
            """;

    /**
     * KEYS: hash, nodes, version, notices, farewell, dropped, seq, epoch. ARGV: node, ttl ms, maxlen,
     * kept ms, whether the entries are announced again (1: the dropped mark goes), write sequence,
     * highest version seen, the sequence of the first attempt of this announcement (the entries are
     * announced only if Redis holds a lower sequence: no earlier attempt landed, its answer lost), E,
     * then for each of E entries removed by a write that failed: field, N, N notice topic/data pairs
     * (appended when the hash still holds the field: the removal did not reach Redis), then for each
     * of the node's entries (all of them): field, value, F, F farewell topic/data pairs, C (1: the
     * notices are appended only if the hash did not hold the field with this value: a put whose write
     * failed; 0: when announcing again; 2: announcing again a put whose write failed: as 0, but not when
     * the node is still marked dropped and the hash holds the field with this value, as the drop deleted
     * the hash, so the put ran after the drop and appended its notices after the farewells), N, N notice
     * topic/data pairs. Decided on the hash as it is
     * before the rewrite, so a write that reached Redis though its answer was lost is not announced
     * twice. Returns the version.
     */
    private static final String REWRITE = NOW + FAREWELLS + """
            local fresh = ARGV[5] == '1' and num(KEYS[7]) < tonumber(ARGV[8])
            local marked = redis.call('EXISTS', KEYS[6]) == 1
            local i = 10
            for _ = 1, tonumber(ARGV[9]) do
              local held = redis.call('HEXISTS', KEYS[1], ARGV[i])
              local n = tonumber(ARGV[i + 1])
              i = i + 2
              for j = 1, n do
                if held == 1 then
                  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[i], 'd', ARGV[i + 1])
                end
                i = i + 2
              end
            end
            local was = {}
            local fields = redis.call('HGETALL', KEYS[1])
            for k = 1, #fields, 2 do
              was[fields[k]] = fields[k + 1]
            end
            redis.call('DEL', KEYS[1])
            redis.call('DEL', KEYS[5])
            if ARGV[5] == '1' then
              redis.call('DEL', KEYS[6])
            end
            while i <= #ARGV do
              local field = ARGV[i]
              local value = ARGV[i + 1]
              redis.call('HSET', KEYS[1], field, value)
              local f = tonumber(ARGV[i + 2])
              i = i + 3
              if f > 0 then
                local farewell = {}
                for j = 1, f do
                  farewell[j] = { ARGV[i], ARGV[i + 1] }
                  i = i + 2
                end
                redis.call('HSET', KEYS[5], field, cjson.encode(farewell))
              end
              local c = ARGV[i]
              local announce
              if c == '1' then
                announce = was[field] ~= value
              elseif c == '2' then
                announce = fresh and not (marked and was[field] == value)
              else
                announce = fresh
              end
              local n = tonumber(ARGV[i + 1])
              i = i + 2
              for j = 1, n do
                if announce then
                  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[i], 'd', ARGV[i + 1])
                end
                i = i + 2
              end
            end
            keep(KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[4]))
            keep(KEYS[5], tonumber(ARGV[2]) + tonumber(ARGV[4]))
            redis.call('SET', KEYS[7], ARGV[6], 'PX', tonumber(ARGV[2]) + tonumber(ARGV[4]))
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
            return bump(KEYS[3], tonumber(ARGV[7]))
            """;

    /**
     * KEYS: hash, nodes, version, notices, farewell, dropped, seq, epoch. ARGV: node, ttl ms, maxlen,
     * kept ms, the hash keys' prefix, the farewell keys' prefix, the dropped marks' prefix, highest
     * version seen. Renews this node, then drops the nodes whose heartbeat expired. Returns whether the
     * hash exists, then as {@code arrive} (the mark, whether the node set did not hold this node, the
     * epoch, the write sequence), then the version.
     */
    private static final String HEARTBEAT = NOW + FAREWELLS + """
            local added, mark, epoch, stored = arrive(KEYS[2], ARGV[1], tonumber(ARGV[2]), KEYS[6], KEYS[7], KEYS[8])
            local reaped = reap(KEYS[2], KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[3], ARGV[4], now)
            if added == 1 or reaped > 0 then
              bump(KEYS[3], tonumber(ARGV[8]))
            end
            local exists = redis.call('EXISTS', KEYS[1])
            keep(KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[4]))
            keep(KEYS[5], tonumber(ARGV[2]) + tonumber(ARGV[4]))
            keep(KEYS[7], tonumber(ARGV[2]) + tonumber(ARGV[4]))
            return { exists, mark, added, epoch, stored, version(KEYS[3], tonumber(ARGV[8])) }
            """;

    /**
     * KEYS: nodes, version, notices. ARGV: the hash keys' prefix, the farewell keys' prefix, the
     * dropped marks' prefix, maxlen, kept ms, highest version seen, then versions the caller knows.
     * Drops the nodes whose heartbeat expired; returns the version, then every live node's values;
     * only the version when it is one of those known (no hash read).
     */
    private static final String LIST = NOW + FAREWELLS + """
            if reap(KEYS[1], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], now) > 0 then
              bump(KEYS[2], tonumber(ARGV[6]))
            end
            local out = { version(KEYS[2], tonumber(ARGV[6])) }
            for i = 7, #ARGV do
              if tonumber(ARGV[i]) == out[1] then
                return out
              end
            end
            for _, n in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
              for _, v in ipairs(redis.call('HVALS', ARGV[1] .. n)) do
                out[#out + 1] = v
              end
            end
            return out
            """;

    /**
     * KEYS: hash, nodes, version, notices, farewell, dropped, seq, epoch. ARGV: node, maxlen, highest
     * version seen. A node that leaves: its entries go at once, their farewells appended.
     */
    private static final String LEAVE = NOW + FAREWELLS + """
            bye(KEYS[4], KEYS[5], ARGV[2])
            redis.call('DEL', KEYS[6])
            redis.call('DEL', KEYS[7])
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            bump(KEYS[3], tonumber(ARGV[3]))
            return 1
            """;

    /**
     * One notice: a topic and its data.
     *
     * @param topic the topic
     * @param data the data
     */
    public record Notice(String topic, String data) {
        /**
         * Checks both are present.
         *
         * @throws NullPointerException if either is null
         */
        public Notice {
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(data, "data");
        }
    }

    /**
     * A notice as read from the stream.
     *
     * @param position its stream entry id ({@code <ms>-<seq>}: the same on every node, growing)
     * @param topic its topic
     * @param data its data
     */
    public record Received(String position, String topic, String data) {
    }

    /**
     * What {@link #list()} answers.
     *
     * @param version changes whenever the entries listed may have changed (a put, a remove, a node
     *     joining, a node dropped for its heartbeat)
     * @param values the values of every live node's entries, in no particular order (none when not
     *     {@code listed})
     * @param listed false when the version was one the caller knew ({@link #list(java.util.Collection)}):
     *     the entries were not read
     */
    public record Listing(long version, List<String> values, boolean listed) {
        /** Copies {@code values}. */
        public Listing {
            values = List.copyOf(values);
        }

        /**
         * A listing with its values.
         *
         * @param version the version
         * @param values the values
         */
        public Listing(long version, List<String> values) {
            this(version, values, true);
        }
    }

    /** One of this node's entries as it holds it: its value, its put's notices, its farewell notices. */
    private record Held(String value, List<Notice> notices, List<Notice> farewell) {
    }

    /** How many characters (topics and data) of notices may wait to be written; beyond, new ones are dropped. */
    static final long PENDING_NOTICE_CHARS = 2L << 20;

    /**
     * A change not yet taken by the writer thread: the key's newest state ({@code null}: removed) and
     * the notices of every change of the key since it was last taken, in call order.
     */
    private static final class Pending {
        Held state;
        final List<Notice> notices = new ArrayList<>();

        Pending(Held state) {
            this.state = state;
        }
    }

    private final String node;
    private final String hash;
    private final String hashPrefix;
    private final String farewell;
    private final String farewellPrefix;
    private final String dropped;
    private final String droppedPrefix;
    private final String seq;
    private final String epoch;
    private final String nodes;
    private final String version;
    private final String stream;
    private final long ttlMillis;
    /** {@link #KEPT} unless a test set another: how long the hashes outlive the heartbeat, and the dropped mark lives. */
    private final String keptMillis;
    private final long maxLength;
    private final StatefulRedisConnection<String, String> writer;
    private final StatefulRedisConnection<String, String> reader;
    private final ScheduledExecutorService thread;
    /** This node's entries as it holds them; only touched on {@link #thread}. */
    private final Map<String, Held> local = new LinkedHashMap<>();
    /** A write failed (or the hash was found gone): the next heartbeat writes every entry again. Only on {@link #thread}. */
    private boolean dirty;
    /**
     * Keys of held entries whose put's write failed, with the notices that write carried (the put's,
     * after those of the changes of the key coalesced with it): the next rewrite appends them unless
     * Redis holds the entry with its value already (the write landed, its answer lost). Only on
     * {@link #thread}.
     */
    private final Map<String, List<Notice>> unconfirmed = new LinkedHashMap<>();
    /**
     * Notices of removals whose write failed, by key: the next rewrite appends them if Redis still
     * holds the entry. At most one per entry removed since the last rewrite that reached Redis (the
     * entries ended during the outage). Only on {@link #thread}.
     */
    private final Map<String, List<Notice>> unsentEnds = new LinkedHashMap<>();
    private volatile boolean closed;
    /**
     * Held by every write of this node's presence (a change, a heartbeat and its rewrite) and by
     * {@link #close()}'s LEAVE: nothing is written once the node left ({@link #left}), so a drain that
     * outlasts close()'s wait never re-adds the node nor appends a notice its farewells already said.
     */
    private final Object writes = new Object();
    /** A heartbeat or change reached Redis: from then on, this node absent from the node set means it was dropped or Redis lost it. Only on {@link #thread}. */
    private boolean joined;
    /** The sequence of this node's last write sent (CHANGE, REWRITE; Redis keeps the last it ran). Only on {@link #thread}. */
    private long writeSeq;
    /** The highest sequence of this node's writes Redis answered: Redis holding a lower one lost them. Only on {@link #thread}. */
    private long confirmedSeq;
    /** When ({@link System#nanoTime()}) the last write of this node Redis answered was sent. Only on {@link #thread}. */
    private long lastConfirmedSent = System.nanoTime();
    /** The data set's epoch as this node last saw it (null before it reached Redis). Only on {@link #thread}. */
    private String knownEpoch;
    /** This node was dropped (its farewells said): its entries are announced again by the next rewrite that succeeds. Only on {@link #thread}. */
    private boolean reannounce;
    /** The dropped mark {@link #reannounce} answers ('' when none: dropped after the mark expired). Only on {@link #thread}. */
    private String reannounceMark = "";
    /** The sequence of the first rewrite attempt announcing again (0: none yet); a later attempt announces only if none landed. Only on {@link #thread}. */
    private long reannounceFrom;
    /** The sequence of the last rewrite sent (0: none): Redis holding it while it is the last write sent means it ran. Only on {@link #thread}. */
    private long lastRewriteSeq;
    /** Keys whose put notices were appended after the drop (by the change that found it): not announced again. Only on {@link #thread}. */
    private final java.util.Set<String> announced = new java.util.HashSet<>();
    /** The highest version this node was given (listings, its writes): Redis holding a lower one went back. */
    private final java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
    /** close() ran LEAVE (or is about to): nothing more is written. Guarded by {@link #writes}. */
    private boolean left;
    /** The changes not yet taken by {@link #thread}, oldest key first; guarded by itself. */
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    /**
     * Keys Redis may hold an entry of (taken by the writer and not known removed: in {@link #local},
     * {@link #unconfirmed} or {@link #unsentEnds}); written on {@link #thread}, guarded by {@link #pending}.
     * A removal coalescing onto a put of a key not in it drops both and their notices: Redis never
     * held the entry, nobody heard of it.
     */
    private final java.util.Set<String> mayHold = new java.util.HashSet<>();
    /** Characters of the notices in {@link #pending}; guarded by {@link #pending}. */
    private long pendingChars;
    /** Whether a drain of {@link #pending} is queued or running; guarded by {@link #pending}. */
    private boolean draining;
    /** A change failed: draining waits for a heartbeat (and its rewrite) that reaches Redis. Guarded by {@link #pending}. */
    private boolean waiting;
    private final java.util.concurrent.atomic.AtomicLong droppedNotices = new java.util.concurrent.atomic.AtomicLong();
    /** Heartbeats that reached Redis and completed (with their rewrite and the drain they resumed); tests wait on it. */
    private final java.util.concurrent.atomic.AtomicLong beats = new java.util.concurrent.atomic.AtomicLong();
    /** Changes whose write failed; tests wait on it. */
    private final java.util.concurrent.atomic.AtomicLong failedWrites = new java.util.concurrent.atomic.AtomicLong();
    private volatile long droppedReported;
    private volatile Thread readerThread;
    private volatile String readFrom;

    /** {@code kept}: see {@link #KEPT}; validated by the caller ({@link RedisEventLog#presence(Duration, long, Duration)}). */
    RedisPresence(RedisClient client, String prefix, Duration ttl, long maxLength, Duration kept) {
        this.node = HexFormat.of().formatHex(randomBytes());
        String p = "{" + prefix + "}:presence:";
        this.hashPrefix = p + "node:";
        this.hash = hashPrefix + node;
        this.farewellPrefix = p + "farewell:";
        this.farewell = farewellPrefix + node;
        this.droppedPrefix = p + "dropped:";
        this.dropped = droppedPrefix + node;
        this.seq = p + "seq:" + node;
        this.epoch = p + "epoch";
        this.nodes = p + "nodes";
        this.version = p + "version";
        this.stream = p + "notices";
        this.ttlMillis = ttl.toMillis();
        this.keptMillis = Long.toString(kept.toMillis());
        this.maxLength = maxLength;
        this.writer = client.connect();
        StatefulRedisConnection<String, String> r = null;
        try {
            r = client.connect();
            // notices from now on: the stream's newest entry as of now
            List<StreamMessage<String, String>> last = writer.sync().xrevrange(stream, io.lettuce.core.Range.create("-", "+"),
                    io.lettuce.core.Limit.from(1));
            this.readFrom = last.isEmpty() ? "0-0" : last.getFirst().getId();
        } catch (RuntimeException e) {
            writer.close();
            if (r != null) {
                r.close();
            }
            throw new IllegalStateException("cannot use Redis for presence: " + e.getMessage(), e);
        }
        this.reader = r;
        this.thread = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("ssekit-redis-presence").factory());
        long period = Math.max(1, ttlMillis / 3);
        thread.scheduleWithFixedDelay(this::heartbeat, 0, period, TimeUnit.MILLISECONDS);
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * This node's id.
     *
     * @return 32 hex digits, random, new for each presence built
     */
    public String node() {
        return node;
    }

    /**
     * Sets an entry of this node and appends notices, atomically, in call order with the other writes
     * of the same key, without farewell notices. As {@link #put(String, String, List, List)}.
     *
     * @param key the entry's key
     * @param value its value
     * @param notices what to tell every node, in order
     */
    public void put(String key, String value, List<Notice> notices) {
        put(key, value, notices, List.of());
    }

    /**
     * Sets an entry of this node and appends notices, atomically, in call order with the other writes
     * of the same key. Never blocks; a Redis failure is logged and repaired by the next heartbeat that
     * reaches Redis (the notices of the write that failed are appended then, unless Redis shows the
     * write landed). The {@code farewell} notices are kept in Redis with the entry and appended once,
     * by whichever node drops this one when its heartbeat expired, or by {@link #close()}; a
     * {@link #remove} drops them (its own notices say the entry ended). Should this node reach Redis
     * again after it was dropped, {@code notices} are appended again (the entry is back).
     *
     * @param key the entry's key
     * @param value its value
     * @param notices what to tell every node, in order
     * @param farewell what to tell every node should this node die holding the entry, in order
     */
    public void put(String key, String value, List<Notice> notices, List<Notice> farewell) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        List<Notice> n = List.copyOf(notices);
        enqueue(key, new Held(value, n, List.copyOf(farewell)), n);
    }

    /**
     * Removes an entry of this node and its farewell, and appends notices, as {@link #put}; not when
     * this node had been dropped (its farewell was appended then).
     *
     * @param key the entry's key
     * @param notices what to tell every node, in order
     */
    public void remove(String key, List<Notice> notices) {
        Objects.requireNonNull(key, "key");
        enqueue(key, null, List.copyOf(notices));
    }

    /**
     * How many notices were dropped, since this presence was built, because more than {@link
     * #PENDING_NOTICE_CHARS} waited while Redis did not answer (each drop is also logged).
     *
     * @return the count
     */
    public long droppedNotices() {
        return droppedNotices.get();
    }

    /** Queues the key's new state ({@code null}: removed), coalesced with what waits for the key. */
    private void enqueue(String key, Held state, List<Notice> n) {
        long chars = 0;
        for (Notice x : n) {
            chars += x.topic().length() + x.data().length();
        }
        boolean start;
        long lost = 0;
        synchronized (pending) {
            Pending p = pending.get(key);
            if (p != null && state == null && p.state != null && !mayHold.contains(key)) {
                // a put the writer never took, of a key Redis cannot hold: nobody heard of it, nothing to write
                pending.remove(key);
                for (Notice x : p.notices) {
                    pendingChars -= x.topic().length() + x.data().length();
                }
                return;
            }
            if (p == null) {
                p = new Pending(state);
                pending.put(key, p);
            } else {
                p.state = state;
            }
            if (pendingChars + chars <= PENDING_NOTICE_CHARS) {
                p.notices.addAll(n);
                pendingChars += chars;
            } else {
                // a key's notices are dropped all together, never some of them (a put's without its removal's)
                lost = n.size() + p.notices.size();
                for (Notice x : p.notices) {
                    pendingChars -= x.topic().length() + x.data().length();
                }
                p.notices.clear();
            }
            start = !draining && !waiting;
            draining |= start;
        }
        if (lost > 0 && droppedNotices.getAndAdd(lost) == droppedReported) {
            LOG.log(Level.WARNING, "presence: {0} characters of notices wait to be written (Redis slow, or not answering):"
                    + " notices dropped, a key''s all together (the entries are still written; see droppedNotices())",
                    PENDING_NOTICE_CHARS);
        }
        if (start) {
            schedule();
        }
    }

    /** How many keys have changes waiting (tests). */
    int pendingKeys() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /** How many heartbeats reached Redis and completed, their rewrite and resumed drain included (tests). */
    long beats() {
        return beats.get();
    }

    /** How many changes' writes failed (tests). */
    long failedWrites() {
        return failedWrites.get();
    }

    /** Whether the writer thread has ended (after {@link #close()}): nothing more is written by it (tests). */
    boolean writerStopped() {
        return thread.isTerminated();
    }

    private void schedule() {
        try {
            thread.execute(this::drain);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            LOG.log(Level.DEBUG, "presence closed: changes not written");
        }
    }

    /** Writes the pending changes, oldest key first, until none is left or a write fails. On {@link #thread}. */
    private void drain() {
        while (true) { // also once closing: what was asked before close() is written, as long as close() waits
            String key;
            Pending p;
            synchronized (pending) {
                var first = pending.entrySet().iterator();
                if (!first.hasNext() || waiting) {
                    draining = false;
                    return;
                }
                var e = first.next();
                first.remove();
                key = e.getKey();
                p = e.getValue();
                for (Notice x : p.notices) {
                    pendingChars -= x.topic().length() + x.data().length();
                }
                mayHold.add(key);
            }
            if (p.state != null) {
                local.put(key, p.state);
            } else {
                local.remove(key);
            }
            boolean written;
            synchronized (writes) {
                if (left) { // close() wrote the farewells and removed the node: nothing after that
                    synchronized (pending) {
                        draining = false;
                    }
                    return;
                }
                written = change(key, p.state, List.copyOf(p.notices));
            }
            if (!written) {
                synchronized (pending) {
                    waiting = true; // the rest waits for Redis: a heartbeat that reaches it rewrites, then drains again
                    draining = false;
                }
                return;
            }
        }
    }

    private String[] keys() {
        return new String[] {hash, nodes, version, stream, farewell, dropped, seq, epoch};
    }

    private static void addPairs(List<String> args, List<Notice> notices) {
        for (Notice n : notices) {
            args.add(n.topic());
            args.add(n.data());
        }
    }

    /**
     * Writes a put ({@code held} non-null) or a del of {@code key} with {@code notices} (those of every
     * change of the key coalesced into this one); on this node's thread. Returns whether Redis answered;
     * when not, the change's notices are kept for the next rewrite (see {@link #unconfirmed},
     * {@link #unsentEnds}).
     */
    private boolean change(String key, Held held, List<Notice> notices) {
        List<Notice> bye = held == null ? List.of() : held.farewell();
        long n = ++writeSeq;
        List<String> args = new ArrayList<>(10 + 2 * (bye.size() + notices.size()));
        args.addAll(List.of(node, Long.toString(ttlMillis), Long.toString(maxLength), held == null ? "del" : "put", key,
                held == null ? "" : held.value(), keptMillis, Integer.toString(bye.size()),
                Long.toString(n), Long.toString(seen.get())));
        addPairs(args, bye);
        addPairs(args, notices);
        long sent = System.nanoTime();
        List<Object> out;
        try {
            out = writer.sync().eval(CHANGE, ScriptOutputType.MULTI, keys(), args.toArray(String[]::new));
        } catch (RuntimeException e) {
            dirty = true;
            failedWrites.incrementAndGet();
            if (held == null) {
                unconfirmed.remove(key);
                unsentEnds.put(key, notices);
            } else {
                unconfirmed.put(key, notices);
                unsentEnds.remove(key);
            }
            LOG.log(Level.WARNING, "presence: a change could not be written to Redis (written again once it is back): {0}",
                    e.toString());
            return false;
        }
        unconfirmed.remove(key);
        unsentEnds.remove(key);
        if (held == null) {
            synchronized (pending) {
                mayHold.remove(key);
            }
        }
        long before = confirmedSeq;
        confirmed(n, (Long) out.get(5));
        boolean existed = (Long) out.get(0) == 1;
        long stored = (Long) out.get(4);
        arrived(sent, (String) out.get(1), (Long) out.get(2) == 1, (String) out.get(3));
        if (reannounce && held != null) {
            announced.add(key); // CHANGE appended its notices after the farewells
        }
        int others = local.size() - (held == null ? 0 : 1);
        try {
            if (reannounce) {
                rewrite(true); // dropped (its farewells appended): its other entries are back
            } else if (stored < before || !existed && others > 0) {
                rewrite(false); // Redis lost writes (the hash, or a rollback): only this entry was written
            }
        } catch (RuntimeException e) {
            dirty = true; // the change landed: only the rewrite is left, for the next heartbeat
            LOG.log(Level.WARNING, "presence: rewriting the entries failed (written again once Redis is back): {0}", e.toString());
            return false;
        }
        return true;
    }

    /** A write with sequence {@code n} was answered with the version {@code v}. */
    private void confirmed(long n, long v) {
        confirmedSeq = Math.max(confirmedSeq, n);
        seen.accumulateAndGet(v, Math::max);
    }

    /**
     * What a CHANGE or HEARTBEAT sent at {@code sent} found (see {@code arrive}): decides whether this
     * node's entries are announced again ({@link #reannounce}). A dropped mark: the node was dropped,
     * its farewells said. Absent from the node set once joined, without a mark: dropped after the
     * mark expired when the epoch is the one it knew (Redis did not lose its data set). Otherwise, absent
     * or not, without a mark, Redis may have lost a drop (FLUSHALL, a restart without persistence, or a
     * rollback to before the drop, which leaves the node in the set) only if no write of it was answered
     * for its time to live, measured from the sending of the last answered write to the arrival of this
     * answer (its heartbeat could not expire sooner): announced again then (a repeat when nobody dropped
     * it); an absent node is silently re-listed otherwise.
     */
    private void arrived(long sent, String mark, boolean absent, String epochNow) {
        // measured to this answer's arrival, not to its sending: a write held in transit longer than the time to
        // live may reach Redis after the heartbeat expired (review 4, R4-1)
        boolean mayHaveExpired = System.nanoTime() - lastConfirmedSent >= TimeUnit.MILLISECONDS.toNanos(ttlMillis);
        if (!mark.isEmpty()) {
            if (!mark.equals(reannounceMark)) { // a drop not yet answered (a new one, if one was)
                startReannounce();
                reannounceMark = mark;
            }
        } else if (joined && (absent && epochNow.equals(knownEpoch) || mayHaveExpired)) {
            // no mark and its heartbeat may have expired: dropped, then Redis lost the drop (FLUSHALL, or a rollback
            // to before it, which leaves the node in the set with an expired score): announced again, a repeat
            // when nobody dropped it (review 4, R4-4)
            startReannounce();
        }
        knownEpoch = epochNow;
        joined = true;
        lastConfirmedSent = sent;
    }

    private void startReannounce() {
        reannounce = true;
        announced.clear();
        reannounceFrom = 0;
        reannounceMark = "";
    }

    /**
     * Writes every entry of this node again, with its farewell; with {@code announce} (this node had
     * been dropped) appends every entry's put notices again but those of {@link #announced} (once: not
     * when an earlier attempt landed though its answer was lost). Appends too the notices of the changes
     * whose write failed and that Redis does not show (see {@code REWRITE}): a put's unless the hash
     * holds the entry, a removal's if it still does.
     */
    private void rewrite(boolean announce) {
        long n = ++writeSeq;
        if (announce && reannounceFrom == 0) {
            reannounceFrom = n;
        }
        List<String> args = new ArrayList<>(9 + 8 * local.size());
        args.addAll(List.of(node, Long.toString(ttlMillis), Long.toString(maxLength), keptMillis,
                announce ? "1" : "0", Long.toString(n), Long.toString(seen.get()), Long.toString(announce ? reannounceFrom : 0),
                Integer.toString(unsentEnds.size())));
        unsentEnds.forEach((k, notices) -> {
            args.add(k);
            args.add(Integer.toString(notices.size()));
            addPairs(args, notices);
        });
        local.forEach((k, held) -> {
            args.add(k);
            args.add(held.value());
            args.add(Integer.toString(held.farewell().size()));
            addPairs(args, held.farewell());
            boolean again = announce && !announced.contains(k);
            List<Notice> failed = unconfirmed.get(k);
            // a failed put announced again: its write may have run after the drop, its notices after the farewells
            args.add(again ? failed != null ? "2" : "0" : failed != null ? "1" : "0");
            List<Notice> notices = again ? held.notices() : failed != null ? failed : List.of();
            args.add(Integer.toString(notices.size()));
            addPairs(args, notices);
        });
        long sent = System.nanoTime();
        lastRewriteSeq = n;
        Long v = writer.sync().eval(REWRITE, ScriptOutputType.INTEGER, keys(), args.toArray(String[]::new));
        confirmed(n, v);
        lastConfirmedSent = sent;
        rewritten(announce);
    }

    /** A rewrite ran (answered, or shown by Redis): what it wrote is repaired. */
    private void rewritten(boolean announce) {
        unconfirmed.clear();
        unsentEnds.clear();
        synchronized (pending) {
            mayHold.retainAll(local.keySet());
        }
        dirty = false;
        if (announce) {
            reannounce = false;
            announced.clear();
            reannounceFrom = 0;
            reannounceMark = "";
        }
    }

    private void heartbeat() {
        boolean reached;
        synchronized (writes) {
            reached = !left && beat();
        }
        if (reached) {
            // outside the lock: the drain takes it per change and stops once close() left (review 4, R4-5)
            resume();
            beats.incrementAndGet();
        }
    }

    /** One heartbeat and the rewrite it calls for, under {@link #writes}; returns whether Redis answered both. */
    private boolean beat() {
        try {
            long sent = System.nanoTime();
            List<Object> out = writer.sync().eval(HEARTBEAT, ScriptOutputType.MULTI, keys(), node, Long.toString(ttlMillis),
                    Long.toString(maxLength), keptMillis, hashPrefix, farewellPrefix, droppedPrefix,
                    Long.toString(seen.get()));
            boolean exists = (Long) out.get(0) == 1;
            long stored = (Long) out.get(4);
            seen.accumulateAndGet((Long) out.get(5), Math::max);
            arrived(sent, (String) out.get(1), (Long) out.get(2) == 1, (String) out.get(3));
            if (dirty && lastRewriteSeq == writeSeq && stored >= writeSeq && (!reannounce || reannounceFrom != 0)) {
                // the last write sent was a rewrite, and Redis ran it though its answer was lost (it outlasted the
                // command timeout): done, as if answered (review 4, R4-6). Not when a change was sent after it (the
                // sequence moved on: its notices are decided by the next rewrite), nor when a new drop was found
                // since (reannounceFrom reset); an announcing rewrite that ran deleted the mark in the same script
                confirmedSeq = Math.max(confirmedSeq, writeSeq);
                rewritten(reannounce);
            }
            if (reannounce) {
                rewrite(true); // dropped meanwhile (its farewells appended): every entry is back, announced again
            } else if (dirty || stored < confirmedSeq || !exists && !local.isEmpty()) {
                rewrite(false); // a write failed, or Redis lost writes it had answered: re-listed, nothing announced again
            }
            return true;
        } catch (RuntimeException e) {
            dirty = true;
            if (reannounce) {
                synchronized (pending) {
                    waiting = true; // no change before the entries are announced again (it would be announced twice)
                }
            }
            LOG.log(Level.DEBUG, "presence heartbeat failed: {0}", e.toString());
            return false;
        }
    }

    /** Redis answers again (and the failed changes were repaired): the pending changes are drained. On {@link #thread}. */
    private void resume() {
        long d = droppedNotices.get();
        if (d != droppedReported) {
            LOG.log(Level.WARNING, "presence: {0} notices dropped in all while Redis did not answer", d);
            droppedReported = d;
        }
        boolean start;
        synchronized (pending) {
            waiting = false;
            start = !draining && !pending.isEmpty();
            draining |= start;
        }
        if (start) {
            drain();
        }
    }

    /**
     * Every live node's entries (this one's included), with a version that changes whenever they may
     * have: a node whose heartbeat expired is dropped first (its farewells appended). Does not block.
     *
     * @return completes with the listing, or exceptionally when Redis cannot answer
     */
    public CompletionStage<Listing> list() {
        return list(List.of());
    }

    /**
     * As {@link #list()}, except that when the version is one of {@code known} (a client that holds
     * the listing of that version: an {@code If-None-Match}) no entry is read: the listing has none
     * and is not {@link Listing#listed() listed}. Does not block.
     *
     * @param known versions the caller knows the listing of
     * @return completes with the listing, or exceptionally when Redis cannot answer
     */
    public CompletionStage<Listing> list(java.util.Collection<Long> known) {
        List<String> args = new ArrayList<>(6 + known.size());
        args.addAll(List.of(hashPrefix, farewellPrefix, droppedPrefix, Long.toString(maxLength), keptMillis,
                Long.toString(seen.get())));
        for (Long k : known) {
            args.add(Long.toString(k));
        }
        return writer.async().<List<Object>>eval(LIST, ScriptOutputType.MULTI, new String[] {nodes, version, stream},
                args.toArray(String[]::new))
                .thenApply(out -> {
                    long v = (Long) out.getFirst();
                    seen.accumulateAndGet(v, Math::max);
                    if (out.size() == 1 && known.contains(v)) {
                        return new Listing(v, List.of(), false);
                    }
                    List<String> values = new ArrayList<>(out.size() - 1);
                    for (int j = 1; j < out.size(); j++) {
                        values.add((String) out.get(j));
                    }
                    return new Listing(v, values);
                });
    }

    /**
     * Starts reading the notices of every node (this one's included) appended since this presence was
     * built, in stream order, on a thread of its own; notices trimmed from the stream before they were
     * read are skipped. Call at most once.
     *
     * @param listener called with each notice, on the reader thread, in order; what it throws is logged
     * @throws IllegalStateException if called twice
     */
    public void follow(Consumer<Received> listener) {
        follow(0, listener);
    }

    /**
     * As {@link #follow(Consumer)}, first giving the listener, on the calling thread and in stream
     * order, the newest {@code backlog} notices appended before this presence was built (fewer when
     * the stream holds fewer): a node that starts knows the notices made before it, as far back as
     * the stream and {@code backlog} reach. When Redis cannot answer for them, they are skipped (logged).
     *
     * @param backlog how many notices made before to give first, 0 or more
     * @param listener called with each notice, in order; what it throws is logged
     * @throws IllegalStateException if called twice
     * @throws IllegalArgumentException if {@code backlog} is negative
     */
    public synchronized void follow(int backlog, Consumer<Received> listener) {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must be 0 or more: " + backlog);
        }
        if (readerThread != null) {
            throw new IllegalStateException("already following");
        }
        if (backlog > 0 && !readFrom.equals("0-0")) {
            for (StreamMessage<String, String> m : backlog(backlog)) {
                give(listener, m);
            }
        }
        readerThread = Thread.ofPlatform().daemon().name("ssekit-redis-presence-reader").start(() -> read(listener));
    }

    @SuppressWarnings("unchecked") // Lettuce's xread takes generic varargs of StreamOffset
    private void read(Consumer<Received> listener) {
        while (!closed) {
            try {
                List<StreamMessage<String, String>> got = reader.sync().xread(XReadArgs.Builder.block(Duration.ofSeconds(1)).count(256),
                        XReadArgs.StreamOffset.from(stream, readFrom));
                for (StreamMessage<String, String> m : got) {
                    readFrom = m.getId();
                    give(listener, m);
                }
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                LOG.log(Level.DEBUG, "presence: reading notices failed: {0}", e.toString());
                try {
                    Thread.sleep(200);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private static void give(Consumer<Received> listener, StreamMessage<String, String> m) {
        try {
            listener.accept(new Received(m.getId(), m.getBody().getOrDefault("t", ""), m.getBody().getOrDefault("d", "")));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "presence notice listener failed: {0}", e.toString());
        }
    }

    /** The newest {@code count} notices up to {@link #readFrom} (included), oldest first; read 100 at a time. */
    private List<StreamMessage<String, String>> backlog(int count) {
        List<StreamMessage<String, String>> newestFirst = new ArrayList<>();
        String upTo = readFrom;
        try {
            while (newestFirst.size() < count) {
                int left = count - newestFirst.size();
                int page = Math.min(100, left) + (newestFirst.isEmpty() ? 0 : 1); // the range includes its bound
                List<StreamMessage<String, String>> got = writer.sync().xrevrange(stream,
                        io.lettuce.core.Range.create("-", upTo), io.lettuce.core.Limit.from(page));
                if (!newestFirst.isEmpty() && !got.isEmpty() && got.getFirst().getId().equals(upTo)) {
                    got = got.subList(1, got.size()); // given already
                }
                if (got.isEmpty()) {
                    break;
                }
                newestFirst.addAll(got.subList(0, Math.min(left, got.size())));
                upTo = got.getLast().getId();
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "presence: the notices made before this node started could not be read: {0}", e.toString());
        }
        return newestFirst.reversed();
    }

    /**
     * Leaves: this node's entries are removed from Redis at once and their farewells appended (best
     * effort: else another node drops it once its heartbeat expired), the heartbeat and the
     * reader stop, the connections close. The changes asked before are written for up to 5 s; LEAVE is
     * the last write (after the one under way, if any): nothing is written after it. Idempotent;
     * blocks up to 5 s plus one command timeout plus a few seconds.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (writes) { // after the write under way, if any (a drain may outlast the wait); the last write
            left = true;
            try {
                writer.sync().eval(LEAVE, ScriptOutputType.INTEGER, keys(), node, Long.toString(maxLength), Long.toString(seen.get()));
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "presence: leaving failed (the entries expire with the heartbeat): {0}", e.toString());
            }
        }
        Thread r = readerThread;
        if (r != null) {
            r.interrupt();
            try {
                r.join(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        writer.close();
        reader.close();
    }
}
