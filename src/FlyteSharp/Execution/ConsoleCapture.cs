using System.Text;

namespace FlyteSharp.Execution;

/// <summary>
/// Routes <see cref="Console.Out"/> and <see cref="Console.Error"/> writes made by a running C# task body into
/// that action's log (the action is found through the async flow); writes outside any action pass through.
/// </summary>
internal static class ConsoleCapture
{
    private static int _installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1)
        {
            return;
        }

        Console.SetOut(new RoutingWriter(Console.Out, 0));
        Console.SetError(new RoutingWriter(Console.Error, 1));
    }

    private sealed class RoutingWriter(TextWriter inner, int stream) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override IFormatProvider FormatProvider => inner.FormatProvider;

        public override void Write(char value)
        {
            if (ActionScope.Current is { } scope)
            {
                scope.WriteConsole(stream, [value]);
            }
            else
            {
                inner.Write(value);
            }
        }

        public override void Write(string? value)
        {
            if (ActionScope.Current is { } scope)
            {
                scope.WriteConsole(stream, value);
            }
            else
            {
                inner.Write(value);
            }
        }

        public override void Write(char[] buffer, int index, int count)
        {
            if (ActionScope.Current is { } scope)
            {
                scope.WriteConsole(stream, buffer.AsSpan(index, count));
            }
            else
            {
                inner.Write(buffer, index, count);
            }
        }

        public override void WriteLine(string? value)
        {
            if (ActionScope.Current is { } scope)
            {
                scope.WriteConsole(stream, (value ?? "") + "\n");
            }
            else
            {
                inner.WriteLine(value);
            }
        }

        public override void Flush() => inner.Flush();
    }
}
