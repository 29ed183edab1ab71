// SPDX-License-Identifier: Apache-2.0
package natpmp.exec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A strict fake {@link ProcessRunner} for tests: it replays an ordered list of expected commands, checks
 * argv and (optionally) standard input of each, and fails loudly on an unexpected or out-of-order call.
 * Thread safe.
 */
public final class ScriptedProcessRunner implements ProcessRunner {
    /** What an expected call returns. */
    public sealed interface Outcome permits Exits, Throws {
    }

    /**
     * The command exits.
     *
     * @param result its result
     */
    public record Exits(CommandResult result) implements Outcome {
    }

    /**
     * The command cannot be run, or times out.
     *
     * @param timedOut true for a timeout, false for a missing program
     */
    public record Throws(boolean timedOut) implements Outcome {
    }

    private record Expectation(List<String> argv, Predicate<String> stdin, Outcome outcome) {
    }

    private final Deque<Expectation> expected = new ArrayDeque<>();
    private final List<Command> seen = new ArrayList<>();
    private final Set<String> executables;

    /**
     * @param executables the programs {@link #isExecutable} reports as present
     */
    public ScriptedProcessRunner(Set<String> executables) {
        this.executables = Set.copyOf(executables);
    }

    /**
     * Expects a command with exactly {@code argv}, any stdin, exiting 0 with {@code stdout}.
     *
     * @param stdout its standard output
     * @param argv   the expected argv
     * @return this
     */
    public synchronized ScriptedProcessRunner expect(String stdout, String... argv) {
        return expect(List.of(argv), s -> true, new Exits(new CommandResult(0, stdout, "")));
    }

    /**
     * Expects a command.
     *
     * @param argv    the expected argv
     * @param stdin   a check of its standard input
     * @param outcome what it does
     * @return this
     */
    public synchronized ScriptedProcessRunner expect(List<String> argv, Predicate<String> stdin, Outcome outcome) {
        expected.addLast(new Expectation(List.copyOf(argv), stdin, outcome));
        return this;
    }

    @Override
    public synchronized CommandResult run(Command command) throws CommandException {
        seen.add(command);
        Expectation next = expected.pollFirst();
        if (next == null) {
            throw new AssertionError("unexpected command " + command.argv() + "; no more commands expected");
        }
        if (!next.argv().equals(command.argv())) {
            throw new AssertionError("expected command " + next.argv() + " but got " + command.argv());
        }
        if (!next.stdin().test(command.stdin())) {
            throw new AssertionError("unexpected stdin for " + command.argv() + ":\n" + command.stdin());
        }
        if (next.outcome() instanceof Throws t) {
            if (t.timedOut()) {
                throw new CommandException(command.argv().get(0) + " timed out", command, true, "", null);
            }
            throw new CommandException("cannot run " + command.argv().get(0) + ": No such file or directory",
                    command, false, "", null);
        }
        return ((Exits) next.outcome()).result();
    }

    @Override
    public boolean isExecutable(String program) {
        return executables.contains(program);
    }

    /** @return every command run so far, in order */
    public synchronized List<Command> seen() {
        return List.copyOf(seen);
    }

    /** @return how many expected commands have not been run yet */
    public synchronized int pending() {
        return expected.size();
    }
}
