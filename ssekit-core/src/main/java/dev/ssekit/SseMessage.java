package dev.ssekit;

import dev.ssekit.codec.SseEncoder;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One server-sent event as a server writes it: the fields {@code id}, {@code event}, {@code data}
 * and {@code retry} of the WHATWG event stream format.
 *
 * <p>This is the Java form of V's {@code veb.sse.SSEMessage}. Unlike the V module, the values are
 * validated so that no field can inject another one: {@code id} may not contain CR, LF or NUL,
 * {@code event} may not contain CR or LF, and {@code retry} may not be negative. Data may contain
 * any text; each CR, LF or CRLF in it starts a new {@code data:} line on the wire, so a client
 * reads it back with every line break as LF.
 *
 * <p>The wire form, and the rules above, come from the codec module's {@link SseEncoder}, which
 * the client's parser is tested against: one codec for server and client. This type stays in
 * {@code dev.ssekit}, with the rest of the server API.
 *
 * <p>Instances are immutable and thread-safe. Build them with {@link #builder()} or {@link
 * #of(String)}.
 */
public final class SseMessage {

    private final String id;
    private final String event;
    private final String data;
    private final Duration retry;

    private SseMessage(Builder b) {
        this.id = b.id;
        this.event = b.event;
        this.data = b.data;
        this.retry = b.retry;
    }

    /**
     * A message that carries only data; the client dispatches it as a {@code message} event.
     *
     * @param data the event data; may be empty and may contain line breaks
     * @return the message
     * @throws NullPointerException if {@code data} is null
     */
    public static SseMessage of(String data) {
        return builder().data(data).build();
    }

    /**
     * A new builder with no field set.
     *
     * @return a builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The event id, which clients send back as {@code Last-Event-ID} when they reconnect.
     *
     * @return the id, or empty when the message has none
     */
    public Optional<String> id() {
        return Optional.ofNullable(id);
    }

    /**
     * The event type; clients dispatch an event without one as {@code message}.
     *
     * @return the event type, or empty when the message has none
     */
    public Optional<String> event() {
        return Optional.ofNullable(event);
    }

    /**
     * The event data. A message without data is not dispatched by clients; it can still carry an
     * id or a retry hint.
     *
     * @return the data, or empty when the message has none
     */
    public Optional<String> data() {
        return Optional.ofNullable(data);
    }

    /**
     * The reconnection time the client should use from now on.
     *
     * @return the retry hint, or empty when the message has none
     */
    public Optional<Duration> retry() {
        return Optional.ofNullable(retry);
    }

    /**
     * This message with another id: what an event log stores when it numbers a message that came
     * without one.
     *
     * @param id the id
     * @return a new message with the same type, data and retry hint
     * @throws NullPointerException if {@code id} is null
     * @throws IllegalArgumentException if {@code id} holds CR, LF or NUL
     */
    public SseMessage withId(String id) {
        Builder b = builder().id(id);
        event().ifPresent(b::event);
        data().ifPresent(b::data);
        retry().ifPresent(b::retry);
        return b.build();
    }

    /**
     * The message in the event stream format, UTF-8 encoded, ending with the blank line that makes
     * clients dispatch it. Fields are written in the order id, event, data, retry.
     *
     * @return a new array on each call, owned by the caller
     */
    public byte[] encode() {
        return SseEncoder.encode(id, event, data, retry);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SseMessage m
                && Objects.equals(id, m.id)
                && Objects.equals(event, m.event)
                && Objects.equals(data, m.data)
                && Objects.equals(retry, m.retry);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, event, data, retry);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SseMessage{");
        String sep = "";
        if (id != null) {
            sb.append("id=").append(id);
            sep = ", ";
        }
        if (event != null) {
            sb.append(sep).append("event=").append(event);
            sep = ", ";
        }
        if (data != null) {
            sb.append(sep).append("data=").append(data.length() > 64 ? data.substring(0, 64) + "…" : data);
            sep = ", ";
        }
        if (retry != null) {
            sb.append(sep).append("retry=").append(retry.toMillis()).append("ms");
        }
        return sb.append('}').toString();
    }

    /**
     * Builds an {@link SseMessage}. Setters reject {@code null} at once; {@link #build()} checks
     * the values. Not thread-safe; a builder may be reused, each {@code build()} takes a snapshot.
     */
    public static final class Builder {
        private String id;
        private String event;
        private String data;
        private Duration retry;

        private Builder() {
        }

        /**
         * Sets the event id.
         *
         * @param id the id; {@link #build()} rejects CR, LF and NUL in it
         * @return this builder
         * @throws NullPointerException if {@code id} is null
         */
        public Builder id(String id) {
            this.id = Objects.requireNonNull(id, "id");
            return this;
        }

        /**
         * Sets the event type.
         *
         * @param event the type; {@link #build()} rejects CR and LF in it
         * @return this builder
         * @throws NullPointerException if {@code event} is null
         */
        public Builder event(String event) {
            this.event = Objects.requireNonNull(event, "event");
            return this;
        }

        /**
         * Sets the data. Empty data is sent as an empty {@code data:} line, so clients dispatch an
         * event whose data is the empty string.
         *
         * @param data the data; any text, line breaks (CR, LF, CRLF) included
         * @return this builder
         * @throws NullPointerException if {@code data} is null
         */
        public Builder data(String data) {
            this.data = Objects.requireNonNull(data, "data");
            return this;
        }

        /**
         * Sets the reconnection time hint. It is sent in whole milliseconds (truncated).
         *
         * @param retry the delay; {@link #build()} rejects a negative one
         * @return this builder
         * @throws NullPointerException if {@code retry} is null
         */
        public Builder retry(Duration retry) {
            this.retry = Objects.requireNonNull(retry, "retry");
            return this;
        }

        /**
         * Validates the fields and builds the message.
         *
         * @return the message
         * @throws IllegalArgumentException if {@code id} contains CR, LF or NUL, {@code event}
         *     contains CR or LF, {@code retry} is negative or too large to be written in
         *     milliseconds, or no field is set; the message names the field
         */
        public SseMessage build() {
            SseEncoder.validate(id, event, data, retry);
            return new SseMessage(this);
        }
    }
}
