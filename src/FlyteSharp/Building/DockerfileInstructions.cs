using System.Text.RegularExpressions;

namespace FlyteSharp.Building;

/// <summary>One Dockerfile instruction: its 1-based starting line, build stage and text (continuations joined).</summary>
internal sealed record DockerfileInstruction(int Line, int Stage, int StepInStage, string Text);

/// <summary>
/// Reads a Dockerfile's instructions with their line numbers, so a builder's "failed at step N"
/// can be reported as the Dockerfile line the user can open.
/// </summary>
internal static partial class DockerfileInstructions
{
    public static IReadOnlyList<DockerfileInstruction> Parse(string dockerfile)
    {
        var result = new List<DockerfileInstruction>();
        var lines = dockerfile.Replace("\r\n", "\n").Split('\n');
        var stage = 0;
        var step = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            var start = i + 1;
            var parts = new List<string>();
            var current = lines[i].TrimEnd();
            while (current.EndsWith('\\') && i + 1 < lines.Length)
            {
                parts.Add(current[..^1].Trim());
                i++;
                // Comment lines inside a continued instruction are dropped by the Dockerfile parser.
                while (i + 1 < lines.Length && lines[i].TrimStart().StartsWith('#'))
                {
                    i++;
                }

                current = lines[i].TrimEnd();
            }

            parts.Add(current.Trim());
            var text = string.Join(' ', parts.Where(p => p.Length > 0));
            if (text.StartsWith("FROM ", StringComparison.OrdinalIgnoreCase) || text.Equals("FROM", StringComparison.OrdinalIgnoreCase))
            {
                stage++;
                step = 0;
            }

            step++;
            result.Add(new DockerfileInstruction(start, Math.Max(stage, 1), step, text));
        }

        return result;
    }

    /// <summary>
    /// Finds the instruction a builder's output says failed: podman's <c>[s/S] STEP n/m:</c> markers
    /// (the last one started), docker buildx's <c>Dockerfile:LINE</c>, or the instruction text quoted
    /// in <c>building at STEP "…"</c>.
    /// </summary>
    public static DockerfileInstruction? FindFailing(string dockerfile, string builderOutput)
    {
        var instructions = Parse(dockerfile);
        var buildx = BuildxLine().Matches(builderOutput);
        if (buildx.Count > 0 && int.TryParse(buildx[^1].Groups["line"].Value, out var line))
        {
            return instructions.LastOrDefault(x => x.Line <= line);
        }

        var quoted = QuotedStep().Match(builderOutput);
        var steps = PodmanStep().Matches(builderOutput);
        if (steps.Count > 0)
        {
            var last = steps[^1];
            var stage = last.Groups["stage"].Success ? int.Parse(last.Groups["stage"].Value) : 1;
            var n = int.Parse(last.Groups["n"].Value);
            var found = instructions.FirstOrDefault(x => x.Stage == stage && x.StepInStage == n);
            if (found is not null)
            {
                return found;
            }
        }

        if (quoted.Success)
        {
            var text = Collapse(quoted.Groups["text"].Value);
            return instructions.LastOrDefault(x => Collapse(x.Text) == text);
        }

        return null;
    }

    private static string Collapse(string s) => Whitespace().Replace(s, " ").Trim();

    [GeneratedRegex(@"(?:\[(?<stage>\d+)/\d+\]\s+)?STEP (?<n>\d+)(?:/\d+)?:")]
    private static partial Regex PodmanStep();

    [GeneratedRegex(@"building at STEP ""(?<text>.*)"":")]
    private static partial Regex QuotedStep();

    [GeneratedRegex(@"^Dockerfile:(?<line>\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex BuildxLine();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
