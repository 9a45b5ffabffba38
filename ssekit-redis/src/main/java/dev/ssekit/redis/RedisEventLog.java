package dev.ssekit.redis;

import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.Retention;
import dev.ssekit.spi.StoredEvent;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Many nodes, one log of events: an {@link EventLog} on one Redis stream, shared by the
 * broadcasters of many nodes ({@code Broadcaster.builder().log(redisLog)} on each).
 *
 * <p>{@link #append} adds the event to the stream (a Lua script: one round trip, atomic, so the
 * sequence number and the stream entry can never disagree) and completes with the stored event
 * once Redis has it. Every node, the appending one included, reads the stream ({@code XREAD
 * BLOCK}) on one thread, keeps what it read in a local {@link Retention} (what the reads serve)
 * and hands each entry, in stream order, to its follower (the node's broadcaster): subscribers on
 * every node see every event, in the same order, with the same id. Stream entry ids are {@code
 * 0-<sequence>} with a sequence that grows by exactly one per event, so a node sees any gap
 * (entries trimmed before it read them) and counts it ({@link #gaps()}). Event ids are {@code
 * <epoch>-<sequence>} with the epoch of the Redis data set (every node reports it as {@link
 * #epoch()}, so an id older than a node's history is recognised as expired) unless the publisher
 * gave one; either kind is a valid {@code Last-Event-ID} on any node, because every node holds the
 * same history.
 *
 * <p>On {@link Builder#build()} the node loads the newest {@code history} entries, then follows the
 * stream. When Redis goes away, appends fail at once (a {@link RedisException} completes the stage
 * exceptionally: a hub answers 503), the reader retries with backoff, and both resume when Redis
 * is back; with Redis persistence ({@code appendfsync always}), no acknowledged event is lost.
 *
 * <p>Thread-safe. Reads never wait for Redis.
 */
public final class RedisEventLog implements EventLog {

    private static final System.Logger LOG = System.getLogger(RedisEventLog.class.getName());

    /**
     * KEYS: stream, sequence, epoch. ARGV: max length, epoch candidate, id or "", then the entry's
     * field/value pairs. Returns the sequence, the event id and the epoch; the entry carries the
     * epoch too ({@code x}), so readers follow a data set that got a new one.
     */
    private static final String APPEND = """
            local seq = redis.call('INCR', KEYS[2])
            local epoch = redis.call('SET', KEYS[3], ARGV[2], 'NX', 'GET')
            if not epoch then epoch = ARGV[2] end
            local id = ARGV[3]
            if id == '' then id = epoch .. '-' .. seq end
            local fields = {'i', id, 'x', epoch}
            for k = 4, #ARGV do fields[#fields + 1] = ARGV[k] end
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-' .. seq, unpack(fields))
            return {seq, id, epoch}
            """;

    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisConnection<String, String> reader;
    private final Retention retention;
    private final Ticker ticker;
    private final String[] keys;
    private final long maxLength;
    private final String epochCandidate;
    private final String appendSha;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong gaps = new AtomicLong();
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final Thread readerThread;
    private volatile boolean closed;
    private volatile boolean connected = true;
    private volatile String epoch;
    private volatile Consumer<StoredEvent> follower;
    private String lastEntry = "0-0";

    private record Waiter(long sequence, CompletableFuture<Void> done) {
    }

    private RedisEventLog(Builder b) {
        this.ticker = b.ticker;
        this.maxLength = b.maxLength;
        this.keys = new String[] {"{" + b.prefix + "}:events", "{" + b.prefix + "}:seq", "{" + b.prefix + "}:epoch"};
        byte[] random = new byte[4];
        new SecureRandom().nextBytes(random);
        this.epochCandidate = HexFormat.of().formatHex(random);
        // reconnect attempts every 100 ms at first, then at most every 2 s (Lettuce's default grows to 30 s)
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, b.uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(b.timeout))
                .build());
        try {
            this.commands = client.connect();
            this.reader = client.connect();
            reader.setTimeout(b.timeout.plus(BLOCK));
            this.appendSha = commands.sync().scriptLoad(APPEND);
            // the data set's epoch: this node's candidate if it is the first to ask
            String existing = commands.sync().setGet(keys[2], epochCandidate, io.lettuce.core.SetArgs.Builder.nx());
            this.epoch = existing != null ? existing : epochCandidate;
            this.retention = new Retention(b.history, b.historyBytes, b.historyAge, b.ticker, "redis");
            loadHistory(b.history);
        } catch (RedisException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot use Redis at " + b.text + ": " + e.getMessage(), e);
        }
        this.readerThread = Thread.ofPlatform().daemon().name("ssekit-redis-reader").start(this::follow);
    }

    /** How long one XREAD waits for new entries. */
    private static final Duration BLOCK = Duration.ofSeconds(1);

    /**
     * A builder for a node attached to the Redis at {@code uri}.
     *
     * @param uri {@code redis://host:port} (with optional {@code /database} and credentials)
     * @return a new builder; not thread-safe
     * @throws IllegalArgumentException if the URI is not a Redis URI
     */
    public static Builder builder(String uri) {
        Objects.requireNonNull(uri, "uri");
        try {
            return new Builder(RedisURI.create(uri), uri);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("uri must be a Redis URI like redis://127.0.0.1:6379, got \"" + uri + "\"", e);
        }
    }

    /**
     * Appends an event to the stream; every node's follower then gets it, this node's included
     * (from the reader thread, in stream order).
     *
     * @param message the event; its id, if set, is kept, else {@code <epoch>-<sequence>} is given
     * @param topics one or more non-empty topics (the broadcaster validates them)
     * @param restricted whether only subscribers authorized for one of its topics may receive it
     * @return completes with the stored event (its frame encoded here, as every node encodes it)
     *     once Redis has stored it, which may be before this node's reader has read it back;
     *     completes exceptionally with a {@link RedisException} when Redis is unreachable or
     *     refuses, with an {@link IllegalStateException} when this log is closed
     */
    @Override
    public CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(topics, "topics");
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the Redis event log is closed"));
        }
        List<String> args = new ArrayList<>(12);
        args.add(Long.toString(maxLength));
        args.add(epochCandidate);
        args.add(message.id().orElse(""));
        args.add("t");
        args.add(Topics.encode(topics));
        args.add("p");
        args.add(restricted ? "1" : "0");
        args.add("d");
        args.add(message.data().orElse(""));
        message.event().ifPresent(e -> {
            args.add("e");
            args.add(e);
        });
        message.retry().ifPresent(r -> {
            args.add("r");
            args.add(Long.toString(r.toMillis()));
        });
        String[] argv = args.toArray(String[]::new);
        Set<String> topicSet = Set.copyOf(topics);
        try {
            return commands.async().<List<Object>>evalsha(appendSha, ScriptOutputType.MULTI, keys, argv)
                    .exceptionallyCompose(e -> {
                        // a restarted Redis has an empty script cache: send the script itself (which caches it again)
                        Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
                        return cause != null && String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")
                                ? commands.async().<List<Object>>eval(APPEND, ScriptOutputType.MULTI, keys, argv)
                                : CompletableFuture.failedFuture(e);
                    })
                    .thenApply(reply -> {
                        long seq = (Long) reply.get(0);
                        String id = (String) reply.get(1);
                        SseMessage withId = message.id().isPresent() ? message : message.withId(id);
                        return new StoredEvent(seq, id, topicSet, withId.encode(), ticker.read(), restricted);
                    });
        } catch (RedisException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@inheritDoc} The follower is called on this node's reader thread, for each entry read from
     * the stream after this call.
     */
    @Override
    public void follow(Consumer<StoredEvent> follower) {
        Objects.requireNonNull(follower, "follower");
        synchronized (this) {
            if (this.follower != null) {
                throw new IllegalStateException("the event log has a follower already");
            }
            this.follower = follower;
        }
    }

    /**
     * {@inheritDoc} The data set's epoch (set by the first node or append that found none), as in
     * the ids Redis gives; it follows the entries this node reads.
     */
    @Override
    public String epoch() {
        return epoch;
    }

    /** {@inheritDoc} The sequence of the last entry this node has read (as {@link #appliedSequence()}). */
    @Override
    public long lastSequence() {
        return retention.lastSequence();
    }

    @Override
    public Optional<StoredEvent> oldest() {
        return retention.oldest();
    }

    @Override
    public OptionalLong sequenceOf(String id) {
        return retention.sequenceOf(id);
    }

    @Override
    public List<StoredEvent> after(long sequence) {
        return retention.after(sequence);
    }

    @Override
    public long size() {
        return retention.size();
    }

    @Override
    public long bytes() {
        return retention.bytes();
    }

    /**
     * Completes once this node has read (and handed to its follower) every event Redis held when
     * this was called: after it, a {@code Last-Event-ID} issued by any node is known here (or has
     * left history). For a client that moves to this node and may be ahead of it.
     *
     * @return completes normally when caught up; exceptionally when Redis cannot be asked or this
     *     log closes first
     */
    @Override
    public CompletionStage<Void> caughtUp() {
        return commands.async().get(keys[1]).thenCompose(value -> {
            long target = value == null ? 0 : Long.parseLong(value);
            if (applied.get() >= target) {
                return CompletableFuture.completedFuture(null);
            }
            Waiter w = new Waiter(target, new CompletableFuture<>());
            waiters.add(w);
            release(); // it may have caught up meanwhile
            return w.done();
        });
    }

    /**
     * The sequence number of the last event this node has applied.
     *
     * @return 0 before the first
     */
    public long appliedSequence() {
        return applied.get();
    }

    /**
     * Events this node never saw because the stream was trimmed before it read them.
     *
     * @return the count since start
     */
    public long gaps() {
        return gaps.get();
    }

    /**
     * Whether the reader's last attempt to read the stream succeeded.
     *
     * @return {@code false} while Redis is unreachable
     */
    public boolean connected() {
        return connected;
    }

    /**
     * Stops following the stream (the follower is called no more) and closes the Redis
     * connections; later appends fail. Idempotent; blocks up to ~3 s.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        follower = null;
        readerThread.interrupt();
        try {
            readerThread.join(BLOCK.plusSeconds(1).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
        waiters.forEach(w -> w.done().completeExceptionally(new IllegalStateException("the Redis event log is closed")));
    }

    private void loadHistory(int history) {
        RedisCommands<String, String> sync = reader.sync();
        List<StreamMessage<String, String>> newest = sync.xrevrange(keys[0], Range.create("-", "+"), Limit.from(history));
        for (int i = newest.size() - 1; i >= 0; i--) {
            apply(newest.get(i));
        }
        if (!newest.isEmpty()) {
            LOG.log(Level.INFO, "loaded {0} events from Redis; following from sequence {1}", newest.size(), applied.get());
        }
    }

    @SuppressWarnings("unchecked") // Lettuce's xread takes generic varargs of StreamOffset
    private void follow() {
        RedisCommands<String, String> sync = reader.sync();
        long backoff = 50;
        while (!closed) {
            try {
                List<StreamMessage<String, String>> batch = sync.xread(XReadArgs.Builder.block(BLOCK).count(1000),
                        XReadArgs.StreamOffset.from(keys[0], lastEntry));
                if (!connected) {
                    LOG.log(Level.INFO, "Redis is back; following from sequence {0}", applied.get());
                    connected = true;
                }
                backoff = 50;
                for (StreamMessage<String, String> m : batch) {
                    apply(m);
                }
                release();
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                if (connected) {
                    LOG.log(Level.WARNING, "cannot read the Redis stream, retrying: {0}", e.getMessage());
                    connected = false;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    return;
                }
                backoff = Math.min(2000, backoff * 2);
            }
        }
    }

    /** Stores one stream entry in the retention and hands it to the follower (on the reader thread, in stream order). */
    private void apply(StreamMessage<String, String> m) {
        long seq = Long.parseLong(m.getId().substring(m.getId().indexOf('-') + 1));
        long previous = applied.get();
        if (seq <= previous) {
            return; // already applied (a re-read after a reconnect)
        }
        if (previous > 0 && seq > previous + 1) {
            gaps.addAndGet(seq - previous - 1);
            LOG.log(Level.WARNING, "events {0} to {1} were trimmed from the Redis stream before this node read them",
                    previous + 1, seq - 1);
        }
        Map<String, String> f = m.getBody();
        StoredEvent event = null;
        try {
            SseMessage.Builder msg = SseMessage.builder().id(f.get("i")).data(f.getOrDefault("d", ""));
            if (f.containsKey("e")) {
                msg.event(f.get("e"));
            }
            if (f.containsKey("r")) {
                msg.retry(Duration.ofMillis(Long.parseLong(f.get("r"))));
            }
            event = new StoredEvent(seq, f.get("i"), Set.copyOf(Topics.decode(f.get("t"))), msg.build().encode(), ticker.read(),
                    "1".equals(f.get("p")));
        } catch (RuntimeException malformed) {
            LOG.log(Level.WARNING, "skipping malformed stream entry {0}: {1}", m.getId(), malformed.toString());
        }
        String entryEpoch = f.get("x");
        if (entryEpoch != null && !entryEpoch.equals(epoch)) {
            epoch = entryEpoch; // the data set was started afresh: ids carry its new epoch
        }
        if (event != null) {
            retention.add(event);
            Consumer<StoredEvent> to = follower;
            if (to != null) {
                try {
                    to.accept(event);
                } catch (RuntimeException failed) {
                    LOG.log(Level.WARNING, "the Redis event log's follower failed on event " + event.id(), failed);
                }
            }
        } else {
            retention.continueAfter(seq);
        }
        applied.set(seq);
        lastEntry = m.getId();
    }

    private void release() {
        long now = applied.get();
        waiters.removeIf(w -> {
            if (w.sequence() <= now) {
                w.done().complete(null);
                return true;
            }
            return false;
        });
    }

    /** Builds a {@link RedisEventLog}. Not thread-safe. */
    public static final class Builder {
        private final RedisURI uri;
        private final String text;
        private String prefix = "ssekit";
        private long maxLength = 100_000;
        private int history = 10_000;
        private long historyBytes = 16L << 20;
        private Duration historyAge = Duration.ofHours(1);
        private Ticker ticker = Ticker.system();
        private Duration timeout = Duration.ofSeconds(5);

        private Builder(RedisURI uri, String text) {
            this.uri = uri;
            this.text = text.replaceAll("//[^@/]*@", "//"); // no credentials in messages
        }

        /**
         * The key prefix: the stream is {@code {prefix}:events} (one hash slot, for Redis Cluster).
         * Default {@code ssekit}. Nodes that share a prefix share events.
         *
         * @param prefix letters, digits, {@code -}, {@code _}, {@code .} or {@code :}
         * @return this builder
         */
        public Builder prefix(String prefix) {
            this.prefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /**
         * How many events the stream keeps, about ({@code XADD MAXLEN ~}). Default 100,000.
         *
         * @param maxLength at least 1
         * @return this builder
         */
        public Builder maxLength(long maxLength) {
            this.maxLength = maxLength;
            return this;
        }

        /**
         * What a node keeps in memory for its reads (resumes): how many of the newest events it
         * loads when it starts and keeps, bounded also in bytes and age (the oldest go first).
         * Defaults: 10,000 events, 16 MiB, 1 hour.
         *
         * @param maxEvents at least 1
         * @param maxBytes at least 1
         * @param maxAge positive
         * @return this builder
         */
        public Builder history(int maxEvents, long maxBytes, Duration maxAge) {
            this.history = maxEvents;
            this.historyBytes = maxBytes;
            this.historyAge = Objects.requireNonNull(maxAge, "maxAge");
            return this;
        }

        /**
         * The clock for history ages (the broadcaster's). Default {@link Ticker#system()}.
         *
         * @param ticker the ticker
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * How long a command may take before it fails. Default 5 s.
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Validates, connects, loads history and starts following the stream.
         *
         * @return the running log
         * @throws IllegalArgumentException naming the setting and its value when one is invalid
         * @throws IllegalStateException if Redis cannot be reached
         */
        public RedisEventLog build() {
            if (!prefix.matches("[A-Za-z0-9_.:-]+")) {
                throw new IllegalArgumentException("prefix must be letters, digits, -, _, . or :, got \"" + prefix + "\"");
            }
            if (maxLength < 1) {
                throw new IllegalArgumentException("maxLength must be at least 1: " + maxLength);
            }
            if (history < 1) {
                throw new IllegalArgumentException("history maxEvents must be at least 1: " + history);
            }
            if (historyBytes < 1) {
                throw new IllegalArgumentException("history maxBytes must be at least 1: " + historyBytes);
            }
            if (historyAge.isNegative() || historyAge.isZero()) {
                throw new IllegalArgumentException("history maxAge must be positive: " + historyAge);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            return new RedisEventLog(this);
        }
    }

    /** Topics in one stream field: each as its length in UTF-16 chars, a colon, then the topic. */
    static final class Topics {
        private Topics() {
        }

        static String encode(Collection<String> topics) {
            StringBuilder b = new StringBuilder();
            for (String t : topics) {
                b.append(t.length()).append(':').append(t);
            }
            return b.toString();
        }

        static List<String> decode(String field) {
            List<String> out = new ArrayList<>();
            int i = 0;
            while (i < field.length()) {
                int colon = field.indexOf(':', i);
                int n = Integer.parseInt(field, i, colon, 10);
                out.add(field.substring(colon + 1, colon + 1 + n));
                i = colon + 1 + n;
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no topics");
            }
            return out;
        }
    }

    @Override
    public String toString() {
        return "RedisEventLog[" + keys[0] + ", epoch " + epoch + ", applied " + applied.get() + ", gaps " + gaps.get()
                + (connected ? "" : ", disconnected") + "]";
    }
}
