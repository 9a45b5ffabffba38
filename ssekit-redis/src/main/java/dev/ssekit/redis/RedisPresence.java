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
 * entries; expires with the heartbeat), {@code {prefix}:presence:version} (counts every change of
 * what {@link #list()} answers; when Redis has lost it, it starts again from Redis's time in
 * microseconds, so a version is not given again for another listing), {@code {prefix}:presence:notices} (the stream, {@code MAXLEN ~}).
 * A node heartbeats every third of its time to live; a node whose heartbeat expired (killed, cut off
 * from Redis) is dropped from {@link #list()} by the next listing, and its hash expires. A node that
 * reaches Redis again after a write failed, or finds its hash gone, writes its entries again from
 * what it holds (never what Redis held): an entry removed meanwhile is not brought back. Each node
 * gets a new random id when built, so a restarted process never answers for the entries of its
 * previous run.
 *
 * <p>A change and its notices are one script (atomic): a listing and the stream's position agree.
 * Scripts go with {@code EVAL} (Redis caches them by digest): a restarted Redis, which has lost its
 * script cache, needs nothing loaded again.
 * Writes run on one thread of the presence's own; {@link #put} and {@link #remove} never block and
 * never throw for Redis failures (they are logged and repaired as above). What waits to be written is
 * bounded: the changes not yet taken are kept per key, the newest state of each (memory bounded by
 * the live keys, however long Redis does not answer), with their notices in call order per key (a
 * key's notices always in order; notices of different keys may be appended in another order than
 * called); notices waiting beyond {@link #PENDING_NOTICE_CHARS} are dropped, counted ({@link
 * #droppedNotices()}) and logged, never silently; the entries themselves are never dropped.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public final class RedisPresence implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RedisPresence.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Redis time in ms, in a script; and {@code bump(key)}: increments the version, which, when missing
     * (never made, FLUSHALL, a restart without persistence), starts again at Redis's time in
     * microseconds, not at 0: a version is never given again for another listing while Redis's clock
     * does not go back (a script runs for well over a microsecond, so no run of increments reaches the
     * time it started at). {@code version(key)} reads it, seeding it the same way.
     */
    private static final String NOW = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local function seed(k)
              if redis.call('EXISTS', k) == 0 then
                redis.call('SET', k, t[1] .. string.format('%06d', tonumber(t[2])))
              end
            end
            local function bump(k)
              seed(k)
              return redis.call('INCR', k)
            end
            local function version(k)
              seed(k)
              return tonumber(redis.call('GET', k))
            end
            """;

    /**
     * KEYS: hash, nodes, version, notices. ARGV: node, ttl ms, maxlen, op (put/del), field, value, then
     * topic/data pairs. Returns whether the hash existed before (0: the caller writes its entries again).
     */
    private static final String CHANGE = NOW + """
            local existed = redis.call('EXISTS', KEYS[1])
            if ARGV[4] == 'put' then
              redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
            else
              redis.call('HDEL', KEYS[1], ARGV[5])
            end
            if redis.call('EXISTS', KEYS[1]) == 1 then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
            bump(KEYS[3])
            for i = 7, #ARGV, 2 do
              redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[i], 'd', ARGV[i + 1])
            end
            return existed
            """;

    /** KEYS: hash, nodes, version. ARGV: node, ttl ms, then field/value pairs: the node's entries, all of them. */
    private static final String REWRITE = NOW + """
            redis.call('DEL', KEYS[1])
            for i = 3, #ARGV, 2 do
              redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
            end
            if #ARGV >= 3 then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
            bump(KEYS[3])
            return 1
            """;

    /** KEYS: hash, nodes, version. ARGV: node, ttl ms. Returns whether the hash exists. */
    private static final String HEARTBEAT = NOW + """
            if redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1]) == 1 then
              bump(KEYS[3])
            end
            local exists = redis.call('EXISTS', KEYS[1])
            if exists == 1 then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return exists
            """;

    /**
     * KEYS: nodes, version. ARGV: the hash keys' prefix, then versions the caller knows. Returns the
     * version, then every live node's values; only the version when it is one of those known.
     */
    private static final String LIST = NOW + """
            if redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) > 0 then
              bump(KEYS[2])
            end
            local out = { version(KEYS[2]) }
            for i = 2, #ARGV do
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

    /** KEYS: hash, nodes, version. ARGV: node. A node that leaves: its entries go at once. */
    private static final String LEAVE = NOW + """
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            bump(KEYS[3])
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

    /** How many characters (topics and data) of notices may wait to be written; beyond, new ones are dropped. */
    static final long PENDING_NOTICE_CHARS = 2L << 20;

    /** A change not yet taken by the writer thread: the key's newest state (null: removed) and its notices. */
    private static final class Pending {
        String value;
        final List<Notice> notices = new ArrayList<>();

        Pending(String value) {
            this.value = value;
        }
    }

    private final String node;
    private final String hash;
    private final String hashPrefix;
    private final String nodes;
    private final String version;
    private final String stream;
    private final long ttlMillis;
    private final long maxLength;
    private final StatefulRedisConnection<String, String> writer;
    private final StatefulRedisConnection<String, String> reader;
    private final ScheduledExecutorService thread;
    /** This node's entries as it holds them; only touched on {@link #thread}. */
    private final Map<String, String> local = new LinkedHashMap<>();
    /** A write failed (or the hash was found gone): the next heartbeat writes every entry again. Only on {@link #thread}. */
    private boolean dirty;
    private volatile boolean closed;
    /** The changes not yet taken by {@link #thread}, oldest key first; guarded by itself. */
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    /** Characters of the notices in {@link #pending}; guarded by {@link #pending}. */
    private long pendingChars;
    /** Whether a drain of {@link #pending} is queued or running; guarded by {@link #pending}. */
    private boolean draining;
    /** A change failed: draining waits for a heartbeat that reaches Redis. Only on {@link #thread}. */
    private boolean waiting;
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    private volatile long droppedReported;
    private volatile Thread readerThread;
    private volatile String readFrom;

    RedisPresence(RedisClient client, String prefix, Duration ttl, long maxLength) {
        this.node = HexFormat.of().formatHex(randomBytes());
        String p = "{" + prefix + "}:presence:";
        this.hashPrefix = p + "node:";
        this.hash = hashPrefix + node;
        this.nodes = p + "nodes";
        this.version = p + "version";
        this.stream = p + "notices";
        this.ttlMillis = ttl.toMillis();
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
     * Sets an entry of this node and appends notices, atomically, in call order with the other writes.
     * Never blocks; a Redis failure is logged and repaired by the next heartbeat that reaches Redis.
     *
     * @param key the entry's key
     * @param value its value
     * @param notices what to tell every node, in order
     */
    public void put(String key, String value, List<Notice> notices) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        enqueue(key, value, notices);
    }

    /**
     * Removes an entry of this node and appends notices, as {@link #put}.
     *
     * @param key the entry's key
     * @param notices what to tell every node, in order
     */
    public void remove(String key, List<Notice> notices) {
        Objects.requireNonNull(key, "key");
        enqueue(key, null, notices);
    }

    /**
     * How many notices were dropped, since this presence was built, because more than {@link
     * #PENDING_NOTICE_CHARS} waited while Redis did not answer (each drop is also logged).
     *
     * @return the count
     */
    public long droppedNotices() {
        return dropped.get();
    }

    private void enqueue(String key, String value, List<Notice> notices) {
        List<Notice> n = List.copyOf(notices);
        long chars = 0;
        for (Notice x : n) {
            chars += x.topic().length() + x.data().length();
        }
        boolean start;
        long lost = 0;
        synchronized (pending) {
            Pending p = pending.get(key);
            if (p == null) {
                pending.put(key, new Pending(value));
            } else {
                p.value = value;
            }
            if (pendingChars + chars <= PENDING_NOTICE_CHARS) {
                pending.get(key).notices.addAll(n);
                pendingChars += chars;
            } else {
                lost = n.size();
            }
            start = !draining && !waiting;
            draining |= start;
        }
        if (lost > 0 && dropped.getAndAdd(lost) == droppedReported) {
            LOG.log(Level.WARNING, "presence: Redis is not answering and {0} characters of notices wait: notices dropped"
                    + " (the entries are written once Redis answers; see droppedNotices())", PENDING_NOTICE_CHARS);
        }
        if (start) {
            schedule();
        }
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
            }
            if (p.value != null) {
                local.put(key, p.value);
            } else {
                local.remove(key);
            }
            if (!change(p.value != null ? "put" : "del", key, p.value != null ? p.value : "", p.notices)) {
                synchronized (pending) {
                    waiting = true; // the rest waits for Redis: a heartbeat that reaches it drains again
                    draining = false;
                }
                return;
            }
        }
    }

    /** Returns whether Redis took the change. */
    private boolean change(String op, String key, String value, List<Notice> notices) {
        List<String> args = new ArrayList<>(6 + 2 * notices.size());
        args.addAll(List.of(node, Long.toString(ttlMillis), Long.toString(maxLength), op, key, value));
        for (Notice n : notices) {
            args.add(n.topic());
            args.add(n.data());
        }
        try {
            Long existed = writer.sync().eval(CHANGE, ScriptOutputType.INTEGER, new String[] {hash, nodes, version, stream},
                    args.toArray(String[]::new));
            if (existed == 0 && (local.size() > 1 || op.equals("del") && !local.isEmpty())) {
                rewrite(); // the hash was gone (expired while cut off, or Redis lost it): only this entry was written
            }
            return true;
        } catch (RuntimeException e) {
            dirty = true;
            LOG.log(Level.WARNING, "presence: a change could not be written to Redis (written again once it is back): {0}",
                    e.toString());
            return false;
        }
    }

    private void rewrite() {
        List<String> args = new ArrayList<>(2 + 2 * local.size());
        args.add(node);
        args.add(Long.toString(ttlMillis));
        local.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        writer.sync().eval(REWRITE, ScriptOutputType.INTEGER, new String[] {hash, nodes, version}, args.toArray(String[]::new));
        dirty = false;
    }

    private void heartbeat() {
        try {
            Long exists = writer.sync().eval(HEARTBEAT, ScriptOutputType.INTEGER, new String[] {hash, nodes, version},
                    node, Long.toString(ttlMillis));
            if (dirty || exists == 0 && !local.isEmpty()) {
                rewrite();
            }
            resume();
        } catch (RuntimeException e) {
            dirty = true;
            LOG.log(Level.DEBUG, "presence heartbeat failed: {0}", e.toString());
        }
    }

    /** Redis answers again: the pending changes are drained. On {@link #thread}. */
    private void resume() {
        long d = dropped.get();
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
     * have: a node whose heartbeat expired is dropped first. Does not block.
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
        String[] args = new String[1 + known.size()];
        args[0] = hashPrefix;
        int i = 1;
        for (Long k : known) {
            args[i++] = Long.toString(k);
        }
        return writer.async().<List<Object>>eval(LIST, ScriptOutputType.MULTI, new String[] {nodes, version}, args)
                .thenApply(out -> {
                    long v = (Long) out.getFirst();
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
     * Leaves: this node's entries are removed from Redis at once (best effort), the heartbeat and the
     * reader stop, the connections close. Idempotent; blocks up to a few seconds.
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
        try {
            writer.sync().eval(LEAVE, ScriptOutputType.INTEGER, new String[] {hash, nodes, version}, node);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "presence: leaving failed (the entries expire with the heartbeat): {0}", e.toString());
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
