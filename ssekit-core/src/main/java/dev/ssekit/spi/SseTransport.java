package dev.ssekit.spi;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What a server adapter (JDK HttpServer, Servlet, Netty) provides so that core can run an {@link
 * dev.ssekit.SseConnection} over it with {@link dev.ssekit.Sse#open(SseTransport)}.
 *
 * <p>The adapter has sent the response head (status 200 and the event-stream headers) before it
 * hands the transport to core. Core serializes calls: {@link #write} is never called by two
 * threads at once. The response is ended once, by {@link #close()} or {@link #abort()}; {@link
 * #abort()} may also follow {@link #close()}, from another thread, when the graceful end did not
 * finish within the connection's close grace. No write starts after either.
 */
public interface SseTransport {

    /**
     * Writes the bytes and flushes them to the network; returns when the socket has taken them.
     *
     * @param bytes encoded event stream bytes; the array must not be kept after the call returns
     * @throws IOException if the write fails (for example because the client went away)
     */
    void write(byte[] bytes) throws IOException;

    /**
     * Writes several encoded frames in order and flushes once: one gathering write where the
     * server can do one. The broadcaster hands a subscriber everything queued for it this way; the
     * arrays are shared with every other subscriber and with history, so the transport must neither
     * modify nor keep them after the call returns. The default joins them and calls {@link
     * #write(byte[])}; adapters whose stream buffers (JDK, Servlet) or whose server gathers (Netty)
     * override it to avoid that copy.
     *
     * @param frames one or more encoded frames
     * @throws IOException if the write fails
     */
    default void write(List<byte[]> frames) throws IOException {
        if (frames.size() == 1) {
            write(frames.getFirst());
            return;
        }
        int length = 0;
        for (byte[] f : frames) {
            length += f.length;
        }
        byte[] joined = new byte[length];
        int p = 0;
        for (byte[] f : frames) {
            System.arraycopy(f, 0, joined, p, f.length);
            p += f.length;
        }
        write(joined);
    }

    /**
     * Whether this transport offers {@link #writeAsync}. A {@link dev.ssekit.Broadcaster} then
     * feeds the connection without a thread of its own: one write in flight per subscriber, the
     * next taken when it completes.
     *
     * @return {@code true} if {@link #writeAsync} is implemented
     */
    default boolean supportsAsyncWrite() {
        return false;
    }

    /**
     * Writes without blocking, pulling the frames at the last moment: the transport calls {@code
     * source} when it is about to write (on its I/O thread), so that everything queued until then
     * goes out in one gathering write. Core has at most one such write in flight per connection.
     * The arrays are shared (see {@link #write(List)}).
     *
     * @param source returns the frames to write, or {@code null} when there is nothing (then {@code
     *     done} is not called); must not block
     * @param done called once after a non-null write, on any thread, with {@code null} when
     *     written or the failure; it must not block and runs no user code
     * @throws UnsupportedOperationException unless {@link #supportsAsyncWrite()}
     */
    default void writeAsync(Supplier<List<byte[]>> source, Consumer<IOException> done) {
        throw new UnsupportedOperationException("this transport has no asynchronous write");
    }

    /**
     * The thread a {@link dev.ssekit.Broadcaster} should deliver this connection's events on: it
     * groups its subscribers by this executor and hands each event to each group once, and the
     * group matches topics and queues frames for its own subscribers there. A server whose writes
     * run on an I/O thread per connection (Netty's event loop) returns that thread's executor, so
     * that a group's work and its connections' writes share one thread and never contend. The
     * executor must run tasks in the order submitted, one at a time; it may hold a task back until
     * the writes its connections queued before it are under way (Netty's does: a group's next batch
     * then never runs ahead of the writes of its last one). The default, {@code null},
     * puts the connection in one of the broadcaster's own few delivery lanes.
     *
     * @return the connection's I/O executor, or {@code null}
     */
    default Executor deliveryExecutor() {
        return null;
    }

    /**
     * Ends the response and releases the connection. Must not throw; failures are the adapter's to
     * log at debug level. It may block while the end is written; core bounds it by calling {@link
     * #abort()} from another thread once the close grace ran out.
     */
    void close();

    /**
     * Drops the connection at once, without ending the response gracefully: for a client that is
     * gone, a write that ran past its timeout, or a close that ran past its grace. Called at most
     * once, instead of or after {@link #close()}, possibly from a timer thread while another thread
     * is blocked in {@link #write} or {@link #close()}: it must then release that thread (the
     * write throws {@link IOException}) and close the TCP connection (or reset the HTTP/2 stream).
     * Must not block and must not throw. The default calls {@link #close()}, for servers whose API
     * cannot abort a write.
     */
    default void abort() {
        close();
    }

    /**
     * Registers what to run when the adapter learns that the client went away without a failed
     * write (the peer closed the socket, the container reported an error). Core registers one
     * action right after {@link dev.ssekit.Sse#open}; it moves the connection to CLOSED with
     * {@link dev.ssekit.CloseReason#CLIENT_GONE}. The adapter must run it at most once and never
     * on an event loop thread (it runs user close listeners). The default never runs it: such a
     * transport notices a gone client only when a write fails.
     *
     * @param action the action
     */
    default void onPeerClosed(Runnable action) {
    }

    /**
     * The request's {@code Last-Event-ID} header, decoded as UTF-8.
     *
     * @return the id, or empty when absent or empty
     */
    Optional<String> lastEventId();
}
