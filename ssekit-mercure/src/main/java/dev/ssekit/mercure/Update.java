package dev.ssekit.mercure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An update to publish (draft-dunglas-mercure-08 L357-426): its topics (the first is the canonical
 * one, the others alternates), its data, and optionally its id, SSE event type, privacy and
 * reconnection delay, plus an {@code Idempotency-Key} header for safe retries. Immutable,
 * thread-safe.
 *
 * <pre>{@code
 * Update u = Update.builder("https://example.com/books/1").data("{\"title\":\"Dune\"}").privateUpdate(true).build();
 * }</pre>
 */
public final class Update {

    private final List<String> topics;
    private final String data;
    private final Optional<String> id;
    private final Optional<String> type;
    private final boolean privateUpdate;
    private final Optional<Duration> retry;
    private final Optional<String> idempotencyKey;

    private Update(Builder b) {
        this.topics = List.copyOf(b.topics);
        this.data = b.data;
        this.id = Optional.ofNullable(b.id);
        this.type = Optional.ofNullable(b.type);
        this.privateUpdate = b.privateUpdate;
        this.retry = Optional.ofNullable(b.retry);
        this.idempotencyKey = Optional.ofNullable(b.idempotencyKey);
    }

    /**
     * A public update of {@code topic} with {@code data}, its id chosen by the hub.
     *
     * @param topic the topic, typically an IRI
     * @param data the data, often JSON
     * @return the update
     * @throws IllegalArgumentException as {@link Builder#build()}
     */
    public static Update of(String topic, String data) {
        return builder(topic).data(data).build();
    }

    /**
     * A builder for an update whose canonical topic is {@code topic}.
     *
     * @param topic the canonical topic
     * @return a builder; not thread-safe
     */
    public static Builder builder(String topic) {
        return new Builder(Objects.requireNonNull(topic, "topic"));
    }

    /**
     * The topics, the canonical one first.
     *
     * @return at least one topic
     */
    public List<String> topics() {
        return topics;
    }

    /**
     * The data.
     *
     * @return the data; empty by default
     */
    public String data() {
        return data;
    }

    /**
     * The id asked for; the hub may keep it or choose its own and says which in its answer.
     *
     * @return the id, or empty to let the hub choose
     */
    public Optional<String> id() {
        return id;
    }

    /**
     * The SSE event type.
     *
     * @return the type, or empty for the default {@code message}
     */
    public Optional<String> type() {
        return type;
    }

    /**
     * Whether the update is private: delivered only to subscribers whose token grants {@code
     * subscribe} on one of its topics.
     *
     * @return {@code true} if private
     */
    public boolean isPrivate() {
        return privateUpdate;
    }

    /**
     * The reconnection delay the subscribers get.
     *
     * @return the delay, or empty for none
     */
    public Optional<Duration> retry() {
        return retry;
    }

    /**
     * The {@code Idempotency-Key} header this update is published with; see {@link
     * Builder#idempotencyKey} for what a hub does with it.
     *
     * @return the key, or empty for none
     */
    public Optional<String> idempotencyKey() {
        return idempotencyKey;
    }

    @Override
    public String toString() {
        return "Update" + topics + (privateUpdate ? " private" : "") + id.map(i -> " id=" + i).orElse("")
                + type.map(t -> " type=" + t).orElse("") + " (" + data.length() + " chars)";
    }

    /**
     * Builds an {@link Update}. Setters reject null; {@link #build()} validates and names the
     * setting and value it rejects. Not thread-safe.
     */
    public static final class Builder {
        private final List<String> topics = new ArrayList<>();
        private String data = "";
        private String id;
        private String type;
        private boolean privateUpdate;
        private Duration retry;
        private String idempotencyKey;

        private Builder(String topic) {
            topics.add(topic);
        }

        /**
         * Adds an alternate topic: the update is also delivered to subscribers of it. Publishing
         * needs a grant on every topic.
         *
         * @param topic the topic
         * @return this builder
         */
        public Builder alternateTopic(String topic) {
            topics.add(Objects.requireNonNull(topic, "topic"));
            return this;
        }

        /**
         * The data; any text, lines split on CR, LF or CRLF by the hub.
         *
         * @param data the data
         * @return this builder
         */
        public Builder data(String data) {
            this.data = Objects.requireNonNull(data, "data");
            return this;
        }

        /**
         * The id to give the update. Default: the hub chooses one.
         *
         * @param id not empty, not starting with {@code #}, not {@code earliest}
         * @return this builder
         */
        public Builder id(String id) {
            this.id = Objects.requireNonNull(id, "id");
            return this;
        }

        /**
         * The SSE event type. Default: none ({@code message}).
         *
         * @param type not empty, not {@code mercure} (reserved for the hub's own events)
         * @return this builder
         */
        public Builder type(String type) {
            this.type = Objects.requireNonNull(type, "type");
            return this;
        }

        /**
         * Whether the update is private. Default {@code false}.
         *
         * @param privateUpdate {@code true} for private
         * @return this builder
         */
        public Builder privateUpdate(boolean privateUpdate) {
            this.privateUpdate = privateUpdate;
            return this;
        }

        /**
         * The reconnection delay sent to subscribers (the SSE {@code retry} field). Default: none.
         *
         * @param retry zero or positive; sent in whole milliseconds
         * @return this builder
         */
        public Builder retry(Duration retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /**
         * The {@code Idempotency-Key} request header (draft-ietf-httpapi-idempotency-key-header; not
         * part of Mercure 1.0, whose ids may repeat): names this publish so that a caller may retry
         * it when the outcome is unknown ({@link java.io.IOException} from {@link
         * MercureClient#publish}, a timeout, a 504) without publishing it twice. Default: none.
         *
         * <p>What a hub that keeps keys does (ssekit-hub with {@code --redis}; the key is kept with
         * the outcome for the Redis log's {@code idempotencyTtl}, 2 minutes by default, across every
         * node on that Redis): a publish with a key it holds and the same update (topics, data,
         * type, retry, private; the id is not compared) is answered 200 with the <em>first</em>
         * publish's id, and nothing is stored or delivered again; the same key with other content
         * is refused with 409 (a {@link MercureException}, nothing published). A hub that keeps no
         * keys (ssekit-hub on its file history, which never leaves an outcome unknown; the
         * reference Mercure hub) ignores the header, and a retry is another update.
         *
         * <p>So: one key per logical update (e.g. {@code order-42-paid}, or a UUID kept with the
         * pending update), reused on every retry of exactly that update, never one per attempt.
         *
         * @param key 1 to 255 printable ASCII characters (checked by {@link #build()})
         * @return this builder
         */
        public Builder idempotencyKey(String key) {
            this.idempotencyKey = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * Validates and builds. Refuses what a Mercure 1.0 hub must refuse, so that the mistake
         * shows here with its setting rather than as a 400.
         *
         * @return the update
         * @throws IllegalArgumentException naming the setting and its value: an empty topic, the
         *     topic {@code *}, a control or format character in a topic, id or type, an id that is
         *     empty, starts with {@code #} or is {@code earliest}, the type {@code mercure}, a
         *     negative retry, an idempotency key that is not 1 to 256 printable ASCII characters
         */
        public Update build() {
            for (String t : topics) {
                if (t.isEmpty()) {
                    throw new IllegalArgumentException("topic must not be empty");
                }
                if (t.equals("*")) {
                    throw new IllegalArgumentException("topic must not be \"*\" (it matches every topic; hubs refuse it)");
                }
                Text.requirePrintable("topic", t);
            }
            if (id != null) {
                if (id.isEmpty() || id.startsWith("#") || id.equals("earliest")) {
                    throw new IllegalArgumentException("id must not be empty, start with # or be \"earliest\": \"" + id + "\"");
                }
                Text.requirePrintable("id", id);
            }
            if (type != null) {
                if (type.isEmpty() || type.equals("mercure")) {
                    throw new IllegalArgumentException("type must not be empty or \"mercure\" (the hub's own events): \""
                            + type + "\"");
                }
                Text.requirePrintable("type", type);
            }
            if (retry != null && retry.isNegative()) {
                throw new IllegalArgumentException("retry must not be negative: " + retry);
            }
            if (idempotencyKey != null && (idempotencyKey.isEmpty() || idempotencyKey.length() > 256
                    || !idempotencyKey.chars().allMatch(c -> c >= 0x21 && c <= 0x7e))) {
                throw new IllegalArgumentException("idempotencyKey must be 1 to 256 printable ASCII characters: \""
                        + Text.escape(idempotencyKey) + "\"");
            }
            return new Update(this);
        }
    }
}
