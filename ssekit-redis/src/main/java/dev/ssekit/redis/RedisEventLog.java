package dev.ssekit.redis;

import dev.ssekit.SseMessage;
import dev.ssekit.Ticker;
import dev.ssekit.spi.EventLog;
import dev.ssekit.spi.IdempotencyKeyConflictException;
import dev.ssekit.spi.Retention;
import dev.ssekit.spi.StoredEvent;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import dev.ssekit.spi.AppendOutcomeUnknownException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
import java.util.concurrent.CompletionException;
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
 * (entries trimmed before it read them), counts it ({@link #gaps()}) and tells its follower's loss
 * listener ({@link #follow(Consumer, Consumer)}: the broadcaster sends its subscribers a {@code
 * reset} notice in that place). Event ids are {@code
 * <epoch>-<sequence>} with the epoch of the Redis data set (every node reports it as {@link
 * #epoch()}, so an id older than a node's history is recognised as expired) unless the publisher
 * gave one; either kind is a valid {@code Last-Event-ID} on any node, because every node holds the
 * same history.
 *
 * <p><b>Lost or rolled-back data.</b> The epoch is a random token in Redis ({@code {prefix}:epoch})
 * with the sequence it started after ({@code {prefix}:base}). When the data set's epoch can no
 * longer be trusted (the key is missing: {@code FLUSHALL}, a restart without persistence; or the
 * counter is below a sequence the node has seen in that epoch, or the epoch is one the node has
 * left: a restart from an older snapshot), the append script or the reader's check script starts
 * a new epoch with a fresh random token, so no id is ever given to two events. Each reader runs
 * the check after every outage, after a read that found nothing and about once a second, and
 * when an entry carries another epoch: it then drops its window, follows the new epoch from its
 * base and tells its loss listener (subscribers get a {@code reset}); ids of the old epoch are
 * unknown from then on. A node started after such a rollback, that never saw the lost
 * sequences, cannot tell by itself: until a node that saw them checks (at once on reconnecting),
 * its appends may reuse those ids. A node that saw them and comes back only after such appends
 * took the counter past what it had seen still notices: each entry names its predecessor's
 * random token, and the first entry it reads does not follow the one it read last.
 *
 * <p><b>Failures and retries.</b> On {@link Builder#build()} the node loads the newest {@code
 * history} entries, then follows the stream. While Redis refuses connections, appends fail at once
 * with a {@link RedisException} (not stored: a hub answers 503). When Redis stalls, or the
 * connection drops after the script was sent, an append fails after the {@link Builder#timeout}
 * with {@link AppendOutcomeUnknownException}: it may be stored. An append with an idempotency key
 * ({@link #append(SseMessage, Set, boolean, String)}) stores the key with its result for {@link
 * Builder#idempotencyTtl}; a retry with the key is answered with the first result, nothing stored
 * twice. The reader retries with backoff; both resume when Redis is back; with Redis persistence
 * ({@code appendfsync always}), no acknowledged event is lost.
 *
 * <p>Thread-safe. Reads never wait for Redis.
 */
public final class RedisEventLog implements EventLog {

    private static final System.Logger LOG = System.getLogger(RedisEventLog.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How many epochs a node remembers having left (an older snapshot may bring one back). */
    private static final int LEFT_EPOCHS = 16;

    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisConnection<String, String> reader;
    private final Builder settings;
    private final Ticker ticker;
    private final String[] keys;
    private final String idempotencyPrefix;
    private final long maxLength;
    private final String idempotencyTtlMillis;
    /** {@code WAIT} this many replicas after each append (0: none). */
    private final int replicas;
    /** {@code WAIT}'s timeout. */
    private final long waitMillis;
    /** How long one XREAD waits for new entries: under the command timeout (half of it, at most 1 s). */
    private final Duration block;
    private final String appendSha;
    private final String checkSha;
    private final AtomicLong applied = new AtomicLong();
    /** The highest sequence this node has seen in its epoch: read, or acknowledged to its appends. */
    private final AtomicLong seen = new AtomicLong();
    private final AtomicLong gaps = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final Thread readerThread;
    private volatile boolean closed;
    private volatile boolean connected = true;
    private volatile String epoch;
    /** The epochs this node has left, newest last, comma-separated (for the scripts). */
    private volatile String leftEpochs = "";
    /** What the reads serve: the current epoch's window (a new one when the epoch changes). */
    private volatile Retention retention;
    private volatile Consumer<StoredEvent> follower;
    private volatile Consumer<String> lost;
    /**
     * What this node adds to a stream sequence to number its events: 0 until an epoch change whose
     * base lies below what it has numbered; then so much that its numbers keep growing (its
     * subscribers take only events numbered above the last they had).
     */
    private volatile long offset;
    // reader thread only
    private String lastEntry = "0-0";
    private String lastHandedId = "";
    /** The token ({@code n}) of the entry read last, or null (none, or written by an older version). */
    private String lastToken;
    private long lastCheck;

    private record Waiter(long sequence, CompletableFuture<Void> done) {
    }

    private RedisEventLog(Builder b) {
        this.settings = b;
        this.replicas = b.replicas;
        this.waitMillis = Math.max(1, b.timeout.toMillis() / 2); // under the command timeout, which also bounds WAIT
        this.ticker = b.ticker;
        this.maxLength = b.maxLength;
        this.keys = new String[] {"{" + b.prefix + "}:events", "{" + b.prefix + "}:seq", "{" + b.prefix + "}:epoch",
            "{" + b.prefix + "}:base"};
        this.idempotencyPrefix = "{" + b.prefix + "}:idem:";
        this.idempotencyTtlMillis = Long.toString(Math.max(1, b.idempotencyTtl.toMillis()));
        this.block = b.timeout.dividedBy(2).compareTo(MAX_BLOCK) < 0 ? b.timeout.dividedBy(2) : MAX_BLOCK;
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
            this.appendSha = commands.sync().scriptLoad(Scripts.APPEND);
            this.checkSha = commands.sync().scriptLoad(Scripts.CHECK);
            // the data set's epoch: a new one if it has none (this node's fresh candidate, if first)
            List<Object> state = check(commands.sync(), "", 0, false);
            this.epoch = (String) state.get(0);
            this.retention = newRetention((Long) state.get(1));
            loadHistory(b.history);
        } catch (RedisException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot use Redis at " + b.text + ": " + e.getMessage(), e);
        }
        this.readerThread = Thread.ofPlatform().daemon().name("ssekit-redis-reader").start(this::follow);
    }

    /**
     * Lettuce's Sentinel form of {@code uri}: {@code redis-sentinel://hosts/NAME} (a master name where Lettuce reads a
     * database number) becomes {@code redis-sentinel://hosts#NAME}; any other URI is returned as it is.
     */
    static String sentinelForm(String uri) {
        if (!uri.startsWith("redis-sentinel://") || uri.indexOf('#') >= 0) {
            return uri;
        }
        int slash = uri.indexOf('/', "redis-sentinel://".length());
        if (slash < 0) {
            return uri;
        }
        int query = uri.indexOf('?', slash);
        String path = query < 0 ? uri.substring(slash + 1) : uri.substring(slash + 1, query);
        if (path.isEmpty() || path.chars().allMatch(Character::isDigit) || path.contains("/")) {
            return uri; // a database number (or nothing): Lettuce's own reading
        }
        return uri.substring(0, slash) + (query < 0 ? "" : uri.substring(query)) + "#" + path;
    }

    /** The longest XREAD wait. */
    private static final Duration MAX_BLOCK = Duration.ofSeconds(1);

    private Retention newRetention(long base) {
        Retention r = new Retention(settings.history, settings.historyBytes, settings.historyAge, ticker, "redis");
        r.continueAfter(base);
        return r;
    }

    /** A new epoch candidate: 48 random bits, so no node ever proposes one used before. */
    private static String candidate() {
        byte[] random = new byte[6];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    /**
     * A builder for a node attached to the Redis at {@code uri}.
     *
     * @param uri {@code redis://host:port} (with optional {@code /database} and credentials), or Redis Sentinel's
     *     {@code redis-sentinel://host:port[,host:port…]#MASTER_NAME} (Lettuce's form; {@code …/MASTER_NAME} is read
     *     the same): the node asks the sentinels for the primary at every (re)connection, so it follows a failover
     * @return a new builder; not thread-safe
     * @throws IllegalArgumentException if the URI is not a Redis URI
     */
    public static Builder builder(String uri) {
        Objects.requireNonNull(uri, "uri");
        try {
            return new Builder(RedisURI.create(sentinelForm(uri)), uri);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("uri must be a Redis URI like redis://127.0.0.1:6379, got \"" + uri + "\"", e);
        }
    }

    /**
     * Appends an event to the stream; every node's follower then gets it, this node's included
     * (from the reader thread, in stream order). Without an idempotency key: see {@link
     * #append(SseMessage, Set, boolean, String)}.
     *
     * @param message the event; its id, if set, is kept, else {@code <epoch>-<sequence>} is given
     * @param topics one or more non-empty topics (the broadcaster validates them)
     * @param restricted whether only subscribers authorized for one of its topics may receive it
     * @return as {@link #append(SseMessage, Set, boolean, String)}
     */
    @Override
    public CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted) {
        return append(message, topics, restricted, "", false);
    }

    /**
     * Appends an event to the stream with an idempotency key: the script stores the key with the
     * result for {@link Builder#idempotencyTtl} and answers an append with a key it holds with the
     * first result, storing nothing. The script also starts a new epoch when the data set's can
     * no longer be trusted (lost or rolled back, see the class description).
     *
     * @param message the event; its id, if set, is kept, else {@code <epoch>-<sequence>} is given
     * @param topics one or more non-empty topics (the broadcaster validates them)
     * @param restricted whether only subscribers authorized for one of its topics may receive it
     * @param idempotencyKey a non-empty key naming this publish
     * @return completes with the stored event (its frame encoded here, as every node encodes it)
     *     once Redis has stored it, which may be before this node's reader has read it back;
     *     completes exceptionally with {@link AppendOutcomeUnknownException} when the script was
     *     (or may have been) sent but no answer came (a timeout, a connection dropped): the event
     *     may be stored; with {@link IdempotencyKeyConflictException} when the key names an
     *     earlier append with other content (event type, data, retry, topics or restricted flag;
     *     the id is not compared): nothing stored; with a {@link RedisException} when it was not
     *     stored (Redis unreachable or refusing); with an {@link IllegalStateException} when this
     *     log is closed
     * @throws IllegalArgumentException if the key is empty
     */
    @Override
    public CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted, String idempotencyKey) {
        Objects.requireNonNull(idempotencyKey, "idempotencyKey");
        if (idempotencyKey.isEmpty()) {
            throw new IllegalArgumentException("idempotencyKey must not be empty");
        }
        return append(message, topics, restricted, idempotencyKey, true);
    }

    private CompletionStage<StoredEvent> append(SseMessage message, Set<String> topics, boolean restricted, String key,
            boolean keyed) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(topics, "topics");
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the Redis event log is closed"));
        }
        String at = epoch;
        List<String> args = new ArrayList<>(16);
        args.add(at);
        args.add(Long.toString(seen.get()));
        args.add(candidate());
        args.add(leftEpochs);
        args.add(Long.toString(maxLength));
        args.add(message.id().orElse(""));
        args.add(keyed ? idempotencyTtlMillis : "");
        args.add(keyed ? digest(message, topics, restricted) : "");
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
        String[] appendKeys = {keys[0], keys[1], keys[2], keys[3], idempotencyPrefix + key};
        Set<String> topicSet = Set.copyOf(topics);
        CompletionStage<List<Object>> sent;
        try {
            sent = commands.async().<List<Object>>evalsha(appendSha, ScriptOutputType.MULTI, appendKeys, argv)
                    .exceptionallyCompose(e -> {
                        // a restarted Redis has an empty script cache: send the script itself (which caches it again)
                        Throwable cause = unwrap(e);
                        return String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")
                                ? commands.async().<List<Object>>eval(Scripts.APPEND, ScriptOutputType.MULTI, appendKeys, argv)
                                : CompletableFuture.failedFuture(cause);
                    });
        } catch (RedisException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletionStage<StoredEvent> stored = sent.handle((reply, error) -> {
            if (error != null) {
                throw classify(unwrap(error), key);
            }
            long seq = (Long) reply.get(0);
            String id = (String) reply.get(1);
            if ((Long) reply.get(3) == 2) {
                throw new CompletionException(new IdempotencyKeyConflictException(key, id));
            }
            String replyEpoch = (String) reply.get(2);
            if (replyEpoch.equals(epoch)) {
                seen.accumulateAndGet(seq, Math::max);
            }
            SseMessage withId = message.id().filter(id::equals).isPresent() ? message : message.withId(id);
            return new StoredEvent(seq + offset, id, topicSet, withId.encode(), ticker.read(), restricted);
        });
        return replicas == 0 ? stored : stored.thenCompose(this::replicated);
    }

    /**
     * With {@link Builder#replicas} N above 0: completes with the event once {@code WAIT N} confirms that N replicas
     * hold every write of this connection so far (this append's included); else fails with {@link
     * NotReplicatedException} (not acknowledged: it may be lost in a failover, or may yet be delivered).
     */
    private CompletionStage<StoredEvent> replicated(StoredEvent stored) {
        CompletionStage<Long> confirmed;
        try {
            confirmed = commands.async().waitForReplication(replicas, waitMillis);
        } catch (RedisException e) {
            return CompletableFuture.failedFuture(new NotReplicatedException("WAIT " + replicas + " could not be sent: " + e, e));
        }
        return confirmed.handle((count, error) -> {
            if (error != null) {
                throw new CompletionException(new NotReplicatedException("WAIT " + replicas + " failed: " + unwrap(error), error));
            }
            if (count < replicas) {
                throw new CompletionException(new NotReplicatedException("stored on the primary but confirmed by " + count
                        + " of " + replicas + " replicas within " + waitMillis + " ms: not acknowledged", null));
            }
            return stored;
        });
    }

    /**
     * An append Redis stored on its primary that {@link Builder#replicas} replicas did not confirm in time: it is not
     * acknowledged (a failover may lose it; or it may be delivered). Publishers should retry with the same idempotency
     * key.
     */
    public static final class NotReplicatedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotReplicatedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /**
     * What a retry must repeat to be one (issue #29 review): SHA-256, in hex, of the event type,
     * data and retry (not the id: the hub's retry of a publish without one carries the key as its
     * id), the topics sorted and the restricted flag, each present/absent and length-prefixed so
     * that no two contents share an encoding.
     */
    static String digest(SseMessage message, Set<String> topics, boolean restricted) {
        StringBuilder b = new StringBuilder();
        for (Optional<String> field : List.of(message.event(), message.data(), message.retry().map(r -> Long.toString(r.toMillis())))) {
            field.ifPresentOrElse(f -> b.append('+').append(f.length()).append(':').append(f), () -> b.append('-'));
        }
        b.append(Topics.encode(topics.stream().sorted().toList())).append(restricted ? "|1" : "|0");
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * What an append's failure means: not stored (Redis answered with an error, or the command was
     * refused before it was sent: not connected), or unknown (sent, or maybe sent, and no answer).
     */
    private static RuntimeException classify(Throwable cause, String key) {
        boolean notSent = cause instanceof RedisCommandExecutionException || cause instanceof RedisConnectionException
                || String.valueOf(cause.getMessage()).startsWith("Currently not connected");
        if (notSent) {
            return cause instanceof RuntimeException r ? new CompletionException(r) : new CompletionException(cause);
        }
        return new CompletionException(new AppendOutcomeUnknownException(
                "Redis did not confirm the append (" + cause + "); it may have been stored", key, cause));
    }

    /**
     * {@inheritDoc} The follower is called on this node's reader thread, for each entry read from
     * the stream after this call.
     */
    @Override
    public void follow(Consumer<StoredEvent> follower) {
        follow(follower, id -> { });
    }

    /**
     * {@inheritDoc} Called on this node's reader thread: when entries were trimmed from the stream
     * before this node read them, and when the data set's epoch changes (its data was lost or
     * rolled back).
     */
    @Override
    public void follow(Consumer<StoredEvent> follower, Consumer<String> lost) {
        Objects.requireNonNull(follower, "follower");
        Objects.requireNonNull(lost, "lost");
        synchronized (this) {
            if (this.follower != null) {
                throw new IllegalStateException("the event log has a follower already");
            }
            this.lost = lost;
            this.follower = follower;
        }
    }

    /**
     * {@inheritDoc} The data set's epoch (set by the first node or append that found none, and
     * anew when its data is found lost or rolled back), as in the ids Redis gives.
     */
    @Override
    public String epoch() {
        return epoch;
    }

    /**
     * {@inheritDoc} The number of the last entry this node has read: its stream sequence (as
     * {@link #appliedSequence()}) until the data set's epoch changes to one based below it; from
     * then on this node's own numbering continues above it (ids keep the stream's sequence).
     */
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
     * @return completes normally when caught up (or when the epoch changed meanwhile: what it
     *     waited for is gone); exceptionally when Redis cannot be asked or this log closes first
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
     * How many times this node found the data set's epoch changed (its data lost or rolled back)
     * and followed the new one.
     *
     * @return the count since start
     */
    public long epochChanges() {
        return resets.get();
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
     * Whether the connection appends go on is open as far as the client knows (false from the moment
     * it saw the connection drop until it has connected again): while it is not, an append is refused
     * before it is sent. Tests wait on it to tell "not sent" from "sent, then the connection dropped".
     */
    boolean appendConnectionOpen() {
        return commands.isOpen();
    }

    /**
     * A {@link RedisPresence} on this log's Redis and key prefix, sharing its client (close it before
     * this log). Each call makes a new node, with a new random id.
     *
     * @param ttl how long a node's entries outlive its last heartbeat (it heartbeats every third of it); at least 300 ms
     * @param maxLength how many notices the presence stream keeps, about ({@code XADD MAXLEN ~}); at least 1
     * @return the presence, heartbeating
     * @throws IllegalArgumentException if a setting is out of range (the message names it)
     * @throws IllegalStateException if this log is closed or Redis cannot be used
     */
    public RedisPresence presence(Duration ttl, long maxLength) {
        return presence(ttl, maxLength, RedisPresence.KEPT);
    }

    /**
     * As {@link #presence(Duration, long)}, with how long a dropped node's mark lives and a node's hashes
     * outlive its heartbeat ({@code kept}, {@link RedisPresence#KEPT} otherwise; tests set it short).
     *
     * @param ttl as {@link #presence(Duration, long)}
     * @param maxLength as {@link #presence(Duration, long)}
     * @param kept how long a dropped node's mark lives; at least 1 ms
     * @return the presence, heartbeating
     * @throws IllegalStateException if this log is closed or Redis cannot be used
     * @throws IllegalArgumentException if a setting is out of range (the message names it and its value)
     */
    RedisPresence presence(Duration ttl, long maxLength, Duration kept) {
        if (kept == null || kept.toMillis() < 1) {
            throw new IllegalArgumentException("presence kept must be at least 1 ms, was " + kept);
        }
        if (ttl == null || ttl.toMillis() < 300) {
            throw new IllegalArgumentException("presence ttl must be at least 300 ms, was " + ttl);
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("presence maxLength must be at least 1, was " + maxLength);
        }
        if (closed) {
            throw new IllegalStateException("the Redis event log is closed");
        }
        return new RedisPresence(client, settings.prefix, ttl, maxLength, kept);
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
            readerThread.join(block.plusSeconds(1).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
        waiters.forEach(w -> w.done().completeExceptionally(new IllegalStateException("the Redis event log is closed")));
    }

    /** Runs the check script: the epoch (a new one if the data set's can no longer be trusted), its base, the counter. */
    private List<Object> check(RedisCommands<String, String> sync, String at, long seenInIt, boolean diverged) {
        String[] argv = {at, Long.toString(seenInIt), candidate(), leftEpochs, diverged ? "1" : "0"};
        try {
            return sync.evalsha(checkSha, ScriptOutputType.MULTI, keys, argv);
        } catch (RedisCommandExecutionException e) {
            if (!String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                throw e;
            }
            return sync.eval(Scripts.CHECK, ScriptOutputType.MULTI, keys, argv);
        }
    }

    private void loadHistory(int history) {
        RedisCommands<String, String> sync = reader.sync();
        List<StreamMessage<String, String>> newest = sync.xrevrange(keys[0], Range.create("-", "+"), Limit.from(history));
        for (int i = newest.size() - 1; i >= 0; i--) {
            apply(newest.get(i));
        }
        seen.set(applied.get());
        if (!newest.isEmpty()) {
            LOG.log(Level.INFO, "loaded {0} events from Redis; following from sequence {1}", newest.size(), applied.get());
        }
    }

    @SuppressWarnings("unchecked") // Lettuce's xread takes generic varargs of StreamOffset
    private void follow() {
        RedisCommands<String, String> sync = reader.sync();
        long backoff = 50;
        boolean recheck = false;
        while (!closed) {
            try {
                if (recheck || System.nanoTime() - lastCheck >= MAX_BLOCK.toNanos()) {
                    // after an outage (Redis may be back from an older snapshot, or empty), and about
                    // once a second: is the data set still the one this node follows?
                    resync(sync, false);
                    recheck = false;
                }
                List<StreamMessage<String, String>> batch = sync.xread(XReadArgs.Builder.block(block).count(1000),
                        XReadArgs.StreamOffset.from(keys[0], lastEntry));
                if (!connected) {
                    LOG.log(Level.INFO, "Redis is back; following from sequence {0}", applied.get());
                    connected = true;
                }
                backoff = 50;
                if (batch.isEmpty()) {
                    recheck = true; // nothing new: maybe because the data went back below this node's position
                }
                boolean checked = false;
                for (StreamMessage<String, String> m : batch) {
                    String entryEpoch = m.getBody().get("x");
                    if (!checked && entryEpoch != null && !entryEpoch.equals(epoch)) {
                        checked = true;
                        if (resync(sync, false)) {
                            break; // a new epoch: read again from its base
                        }
                    }
                    if (breaksChain(m)) {
                        // this sequence was filled again after the data went back (an older snapshot) by
                        // appends that did not know: the counter passed what this node saw, so only the chain tells
                        LOG.log(Level.WARNING, "Redis stream entry {0} does not follow the entry this node read before it: "
                                + "the data set was rolled back", m.getId());
                        if (resync(sync, true)) {
                            break;
                        }
                    }
                    apply(m);
                }
                release();
            } catch (RuntimeException e) {
                if (closed) {
                    return;
                }
                recheck = true;
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

    /**
     * Checks the data set's epoch (starting a new one if it was lost or rolled back below what this
     * node has seen) and follows it if it changed. Reader thread only. Returns whether it changed.
     */
    private boolean resync(RedisCommands<String, String> sync, boolean diverged) {
        lastCheck = System.nanoTime();
        List<Object> state = check(sync, epoch, Math.max(seen.get(), applied.get()), diverged);
        String now = (String) state.get(0);
        if (now.equals(epoch)) {
            return false;
        }
        long base = (Long) state.get(1);
        LOG.log(Level.WARNING, "the Redis data set''s epoch changed from {0} to {1} (its data was lost or rolled back): "
                + "following the new epoch from sequence {2}; subscribers are told", epoch, now, base);
        String left = leftEpochs.isEmpty() ? epoch : leftEpochs + "," + epoch;
        String[] all = left.split(",");
        leftEpochs = all.length <= LEFT_EPOCHS ? left
                : String.join(",", java.util.Arrays.copyOfRange(all, all.length - LEFT_EPOCHS, all.length));
        long numbered = retention.lastSequence();
        offset = Math.max(0, numbered - base);
        retention = newRetention(base + offset);
        // seen before the epoch: an append pairing the new epoch with the old epoch's sequence
        // would find the counter below it and start yet another epoch
        seen.set(base);
        applied.set(base);
        epoch = now;
        lastEntry = "0-" + base;
        lastToken = null;
        resets.incrementAndGet();
        tellLost();
        // what they waited for is gone with the old data
        for (Waiter w; (w = waiters.poll()) != null;) {
            w.done().complete(null);
        }
        return true;
    }

    /** Tells the follower's listener that events were lost to this node, after the last it handed over. */
    private void tellLost() {
        Consumer<String> to = follower != null ? lost : null;
        if (to != null) {
            try {
                to.accept(lastHandedId);
            } catch (RuntimeException failed) {
                LOG.log(Level.WARNING, "the Redis event log's loss listener failed", failed);
            }
        }
    }

    /**
     * Whether {@code m} directly follows the entry read last but names another predecessor: the
     * sequence before it was written again since this node read it. Reader thread only.
     */
    private boolean breaksChain(StreamMessage<String, String> m) {
        String prev = m.getBody().get("b");
        if (lastToken == null || prev == null || prev.isEmpty()) {
            return false;
        }
        long seq = Long.parseLong(m.getId().substring(m.getId().indexOf('-') + 1));
        return seq == applied.get() + 1 && !prev.equals(lastToken);
    }

    /** Stores one stream entry in the retention and hands it to the follower (on the reader thread, in stream order). */
    private void apply(StreamMessage<String, String> m) {
        lastToken = m.getBody().get("n");
        long seq = Long.parseLong(m.getId().substring(m.getId().indexOf('-') + 1));
        long previous = applied.get();
        if (seq <= previous) {
            return; // already applied (a re-read after a reconnect)
        }
        if (previous > 0 && seq > previous + 1) {
            gaps.addAndGet(seq - previous - 1);
            LOG.log(Level.WARNING, "events {0} to {1} were trimmed from the Redis stream before this node read them",
                    previous + 1, seq - 1);
            tellLost();
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
            event = new StoredEvent(seq + offset, f.get("i"), Set.copyOf(Topics.decode(f.get("t"))), msg.build().encode(), ticker.read(),
                    "1".equals(f.get("p")));
        } catch (RuntimeException malformed) {
            LOG.log(Level.WARNING, "skipping malformed stream entry {0}: {1}", m.getId(), malformed.toString());
        }
        Retention r = retention;
        if (event != null) {
            r.add(event);
            lastHandedId = event.id();
            Consumer<StoredEvent> to = follower;
            if (to != null) {
                try {
                    to.accept(event);
                } catch (RuntimeException failed) {
                    LOG.log(Level.WARNING, "the Redis event log's follower failed on event " + event.id(), failed);
                }
            }
        } else {
            r.continueAfter(seq + offset);
        }
        applied.set(seq);
        seen.accumulateAndGet(seq, Math::max);
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
        private Duration idempotencyTtl = Duration.ofMinutes(2);
        /** What {@link #idempotencyTtl} must exceed twice the timeout by: a publisher's reaction time. */
        private static final Duration TTL_MARGIN = Duration.ofSeconds(10);
        private int replicas;

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
         * How long a command may take before it fails. Default 5 s. The reader's blocking read
         * waits half of it, at most 1 s, so that an idle node's read never outlasts its timeout.
         * An append that times out completes with {@link AppendOutcomeUnknownException}.
         *
         * @param timeout at least 100 ms
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * How long Redis remembers an append's idempotency key (with its result), so that a retry
         * with the same key in that time is answered with the first result. Default 2 minutes.
         * Each keyed append costs a Redis key of about 130 bytes plus the key for this long.
         *
         * <p>It must be at least 2 &times; {@link #timeout} + 10 s (checked at {@link #build()}):
         * the key's clock starts when Redis runs the append, which can be up to a timeout before
         * the publisher learns the outcome is unknown; its retry may then take up to a timeout
         * again before Redis runs it; the 10 s leave the publisher time to react (an HTTP round
         * trip, a short back-off). A shorter TTL would let a prompt retry find the key gone and
         * store the event a second time.
         *
         * @param ttl at least 2 &times; timeout + 10 s
         * @return this builder
         */
        public Builder idempotencyTtl(Duration ttl) {
            this.idempotencyTtl = Objects.requireNonNull(ttl, "ttl");
            return this;
        }

        /**
         * How many replicas must hold an append before it is acknowledged: after the append script, {@code WAIT
         * replicas timeout/2}; fewer confirmations fail the append with {@link NotReplicatedException} (never a
         * silent loss in a failover). Default 0: acknowledged when the primary has it (asynchronous replication: a
         * failover may lose the last writes acknowledged before it, about a second's worth).
         *
         * @param replicas at least 0
         * @return this builder
         */
        public Builder replicas(int replicas) {
            this.replicas = replicas;
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
            if (timeout.compareTo(Duration.ofMillis(100)) < 0) {
                throw new IllegalArgumentException("timeout must be at least 100 ms (the reader blocks for half of it): " + timeout);
            }
            if (replicas < 0) {
                throw new IllegalArgumentException("replicas must be at least 0: " + replicas);
            }
            Duration minTtl = timeout.multipliedBy(2).plus(TTL_MARGIN);
            if (idempotencyTtl.compareTo(minTtl) < 0) {
                throw new IllegalArgumentException("idempotencyTtl must be at least 2 \u00d7 timeout + 10 s = " + minTtl
                        + " (timeout " + timeout + "), got " + idempotencyTtl + ": a publisher told after the timeout that the "
                        + "outcome is unknown must be able to retry, and its retry take up to the timeout, while Redis still holds the key");
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
                + ", epoch changes " + resets.get()
                + (connected ? "" : ", disconnected") + "]";
    }
}
