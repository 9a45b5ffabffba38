package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Parses the worst case of every input ({@link WorstCaseInputs#all()}) and checks its answer;
 * then writes how much CPU time each parse took on the thread that ran it (the event loop's share
 * of a request: a publish's storing and fan-out run elsewhere) to {@code
 * target/input-worst-case.md}, the table of RELIABILITY.md. It asserts answers, never times.
 *
 * <p>Each case runs {@code RUNS} times after as many warm-up runs (a fresh hub each time: nothing
 * cached), from the system property {@code ssekit.worstcase.runs}, 1 by default (the CI run). The
 * figures in RELIABILITY.md come from
 * {@code ./mvnw -B -ntp -pl ssekit-hub -am verify -Dtest=InputWorstCaseTest -Dsurefire.failIfNoSpecifiedTests=false -Dssekit.worstcase.runs=21}.
 */
@Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class InputWorstCaseTest {

    @Test
    void everyWorstCaseIsAnsweredAndItsCostIsRecorded() throws Exception {
        int runs = Integer.getInteger("ssekit.worstcase.runs", 1);
        assertThat(runs).as("ssekit.worstcase.runs").isPositive();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        assertThat(threads.isCurrentThreadCpuTimeSupported()).as("thread CPU time is measurable here").isTrue();
        List<String> rows = new ArrayList<>();
        for (WorstCaseInputs.Case c : WorstCaseInputs.all()) {
            long[] nanos = new long[runs];
            for (int i = -runs; i < runs; i++) {
                try (WorstCaseInputs.Trial trial = c.trial().get()) {
                    long start = threads.getCurrentThreadCpuTime();
                    Object result = trial.run();
                    long spent = threads.getCurrentThreadCpuTime() - start;
                    trial.check(result);
                    if (i >= 0) {
                        nanos[i] = spent;
                    }
                }
            }
            Arrays.sort(nanos);
            rows.add("| " + c.input() + " | " + c.worst() + " | " + c.limit() + " | " + ms(nanos[runs / 2]) + " / " + ms(nanos[runs - 1])
                    + " | `" + c.test() + "` |");
        }
        write(runs, rows);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }

    private static void write(int runs, List<String> rows) throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("CPU time of the parsing thread per request, median / max of ").append(runs).append(" runs (ms), ")
                .append(Runtime.version()).append(", ").append(Runtime.getRuntime().availableProcessors()).append(" cores\n\n");
        b.append("| input | worst case | limit | CPU ms (median / max) | kept bounded by |\n|---|---|---|---|---|\n");
        rows.forEach(r -> b.append(r).append('\n'));
        Path out = Path.of("target", "input-worst-case.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, b);
    }
}
