using System.Text.RegularExpressions;

namespace FlyteSharp.Tasks;

/// <summary>
/// What one task's container may use, in Kubernetes quantity syntax: <c>Cpu: "1"</c> or <c>"500m"</c>,
/// <c>Memory: "512Mi"</c> or <c>"2Gi"</c>. Invalid quantities are rejected when the record is created.
/// </summary>
public sealed partial record Resources
{
    /// <summary>Creates a resource request; any value may be omitted.</summary>
    /// <param name="Cpu">CPU cores, e.g. <c>"1"</c>, <c>"0.5"</c> or <c>"500m"</c>.</param>
    /// <param name="Memory">Memory, e.g. <c>"512Mi"</c> or <c>"2Gi"</c>.</param>
    /// <param name="Gpu">Number of GPUs, a whole number.</param>
    /// <param name="Disk">Ephemeral storage, e.g. <c>"10Gi"</c>.</param>
    public Resources(string? Cpu = null, string? Memory = null, string? Gpu = null, string? Disk = null)
    {
        this.Cpu = Validate(nameof(Cpu), Cpu, "\"1\", \"0.5\" or \"500m\"");
        this.Memory = Validate(nameof(Memory), Memory, "\"512Mi\" or \"2Gi\"");
        this.Disk = Validate(nameof(Disk), Disk, "\"10Gi\"");
        if (Gpu is not null && !WholeNumber().IsMatch(Gpu))
        {
            throw new FlyteSharpException($"Resources.Gpu '{Gpu}' is not a whole number of GPUs", fix: "use e.g. Gpu: \"1\"");
        }

        this.Gpu = Gpu;
    }

    /// <summary>CPU quantity, or null when unset.</summary>
    public string? Cpu { get; }

    /// <summary>Memory quantity, or null when unset.</summary>
    public string? Memory { get; }

    /// <summary>GPU count, or null when unset.</summary>
    public string? Gpu { get; }

    /// <summary>Ephemeral-storage quantity, or null when unset.</summary>
    public string? Disk { get; }

    /// <summary>CPU as a number of cores (e.g. 0.5 for "500m"), or null when unset.</summary>
    public double? CpuCores => Cpu is null ? null : ParseQuantity(Cpu);

    /// <summary>Memory in bytes, or null when unset.</summary>
    public long? MemoryBytes => Memory is null ? null : (long)ParseQuantity(Memory);

    /// <summary>Parses a Kubernetes quantity ("500m", "512Mi", "1.5", "2G") into its numeric value.</summary>
    /// <exception cref="FormatException">The text is not a quantity.</exception>
    internal static double ParseQuantity(string quantity)
    {
        var m = Quantity().Match(quantity);
        if (!m.Success)
        {
            throw new FormatException($"'{quantity}' is not a Kubernetes quantity");
        }

        var number = double.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
        return number * m.Groups["s"].Value switch
        {
            "" => 1,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024d,
            "Mi" => Math.Pow(1024, 2),
            "Gi" => Math.Pow(1024, 3),
            "Ti" => Math.Pow(1024, 4),
            "Pi" => Math.Pow(1024, 5),
            "Ei" => Math.Pow(1024, 6),
            var s => throw new FormatException($"unknown suffix '{s}'"),
        };
    }

    private static string? Validate(string name, string? value, string example)
    {
        if (value is null)
        {
            return null;
        }

        var m = Quantity().Match(value);
        if (!m.Success)
        {
            var hint = value.EndsWith('B') ? " (Kubernetes writes mebibytes as Mi and gibibytes as Gi, without B)" : "";
            throw new FlyteSharpException($"Resources.{name} '{value}' is not a valid Kubernetes quantity{hint}",
                fix: $"use a non-negative quantity such as {example}");
        }

        if (ParseQuantity(value) == 0)
        {
            throw new FlyteSharpException($"Resources.{name} '{value}' is zero", fix: $"use a positive quantity such as {example}, or leave it unset");
        }

        return value;
    }

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?|\.[0-9]+)(?<s>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    private static partial Regex Quantity();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex WholeNumber();
}
