package dev.ssekit;

import dev.ssekit.spi.SseTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A transport that delivers and writes on a {@link StepLoop}, asynchronously, as Netty's does: the
 * frames are pulled when the loop gets to the write, and the write completes on the loop. Keeps
 * what was written. Thread-safe.
 */
final class LoopTransport implements SseTransport {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StepLoop loop;
    private final String lastEventId;
    /** Its writes take their frames and never complete (a peer that stopped reading). */
    private volatile boolean stalled;
    private volatile boolean closed;
    /** While held, completed writes wait for {@link #release()} (a peer that reads later). */
    private boolean held;
    private final List<Runnable> completions = new ArrayList<>();

    LoopTransport(StepLoop loop) {
        this(loop, null);
    }

    /** A transport whose request carried this {@code Last-Event-ID} (null: none). */
    LoopTransport(StepLoop loop, String lastEventId) {
        this.loop = loop;
        this.lastEventId = lastEventId;
    }

    @Override
    public synchronized void write(byte[] bytes) {
        out.writeBytes(bytes);
    }

    @Override
    public boolean supportsAsyncWrite() {
        return true;
    }

    @Override
    public void writeAsync(Supplier<List<byte[]>> source, Consumer<IOException> done) {
        loop.execute(() -> {
            List<byte[]> frames = source.get();
            if (frames != null) {
                synchronized (this) {
                    frames.forEach(out::writeBytes);
                }
                if (!stalled) {
                    synchronized (this) {
                        if (held) {
                            completions.add(() -> done.accept(null));
                            return;
                        }
                    }
                    done.accept(null);
                }
            }
        });
    }

    @Override
    public Executor deliveryExecutor() {
        return loop;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public Optional<String> lastEventId() {
        return Optional.ofNullable(lastEventId);
    }

    void stall() {
        stalled = true;
    }

    /** From now on, writes complete only at {@link #release()}. */
    synchronized void hold() {
        held = true;
    }

    /** Completes, on the loop, the writes held since {@link #hold()}; later writes complete at once. */
    void release() {
        List<Runnable> done;
        synchronized (this) {
            held = false;
            done = new ArrayList<>(completions);
            completions.clear();
        }
        done.forEach(loop::execute);
    }

    /** Whether the connection was closed (evicted, shut down). */
    boolean closed() {
        return closed;
    }

    /** Everything written, as text. */
    synchronized String text() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The ids of the events written, in order. */
    List<String> ids() {
        return lines("id");
    }

    /** The event names written ({@code event:} lines), in order. */
    List<String> events() {
        return lines("event");
    }

    private List<String> lines(String field) {
        List<String> values = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^" + field + ": (\\S+)$").matcher(text());
        while (m.find()) {
            values.add(m.group(1));
        }
        return values;
    }
}
