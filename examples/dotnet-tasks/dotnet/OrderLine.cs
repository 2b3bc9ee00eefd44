using Newtonsoft.Json;

namespace DotnetTasks;

/// <summary>One order line as a batch's JSON text carries it (Newtonsoft.Json names: <c>sku</c>, <c>qty</c>, <c>unit_price</c>).</summary>
/// <param name="Sku">The article.</param>
/// <param name="Quantity">How many.</param>
/// <param name="UnitPrice">Price per item.</param>
public sealed record OrderLine(
    [property: JsonProperty("sku")] string Sku,
    [property: JsonProperty("qty")] int Quantity,
    [property: JsonProperty("unit_price")] double UnitPrice);
