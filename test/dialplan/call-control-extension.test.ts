import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DialplanError, renderCallControlDialplan } from '../../runtime/dialplan';

interface ParsedDialplan {
  include: { context: { name: string; extension: { condition: { expression: string } } }[] };
}

const parseDialplan = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as ParsedDialplan;

describe('renderCallControlDialplan', () => {
  it('renders byte-identical output for the same options, defaults included', () => {
    const implicit = renderCallControlDialplan();
    expect(renderCallControlDialplan()).toBe(implicit);
    expect(
      renderCallControlDialplan({
        context: 'public',
        destinationPattern: '^.+$',
        maxGroups: 4,
        maxRehomes: 3,
        fallback: { sipResponse: 503 },
      }),
    ).toBe(implicit);
  });

  it.each([{}, { context: 'from-carrier', maxGroups: 1, maxRehomes: 5 }, { destinationPattern: '^(?:\\+1)?[0-9]{10}$' }])('renders well-formed XML for %j', (options) => {
    expect(XMLValidator.validate(renderCallControlDialplan(options))).toBe(true);
  });

  it('escapes XML-special characters so FreeSWITCH reads the pattern back unchanged', () => {
    const pattern = `^(?:<sip>|"q"|'a'&b)$`;
    const xml = renderCallControlDialplan({ destinationPattern: pattern });
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(parseDialplan(xml).include.context[0].extension.condition.expression).toBe(pattern);
  });

  it('puts the entry extension in the requested context and each helper in a context of its own', () => {
    const contexts = parseDialplan(renderCallControlDialplan({ context: 'from-carrier', maxGroups: 2 })).include.context;
    expect(contexts.map((context) => context.name)).toEqual([
      'from-carrier',
      'vp_cc_from-carrier_stored',
      'vp_cc_from-carrier_share',
      'vp_cc_from-carrier_drawn',
      'vp_cc_from-carrier_rank_1',
      'vp_cc_from-carrier_rank_2',
      'vp_cc_from-carrier_unrouted',
      'vp_cc_from-carrier_rehome',
    ]);
  });

  it.each([
    [{ context: 'has space' }, "call-control dialplan options: context: 'has space' must be 1-64 letters"],
    [{ destinationPattern: '([0-9]' }, "destinationPattern: '([0-9]' is not a valid regular expression"],
    [{ destinationPattern: '^[0-9]*$' }, "destinationPattern: '^[0-9]*$' must not match an empty destination number"],
    [{ maxGroups: 0 }, 'maxGroups'],
    [{ maxGroups: 5 }, 'maxGroups'],
    [{ maxRehomes: 6 }, 'maxRehomes'],
    [{ fallback: { sipResponse: 200 } }, 'fallback.sipResponse: must be one of 480, 486, 500, 502, 503, 504'],
    // The cause follows from the SIP status (mod_sofia hangs up on `respond` itself), so it cannot be chosen apart.
    [{ fallback: { hangupCause: 'NORMAL_CLEARING' } }, 'hangupCause'],
    [{ contxt: 'public' }, 'contxt'],
  ])('rejects %j, naming the option', (options, message) => {
    const render = () => renderCallControlDialplan(options as Parameters<typeof renderCallControlDialplan>[0]);
    expect(render).toThrow(DialplanError);
    expect(render).toThrow(message);
  });
});
