import { IConstruct } from 'constructs';
import { IAspect } from 'cdktf';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';

/**
 * Fails synthesis when an instance could be started with IMDSv1: every launch template must
 * require session tokens, and every instance must come from such a template or require them itself.
 */
export class RequireImdsV2 implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof LaunchTemplate) {
      node.node.addValidation({
        validate: () => (node.metadataOptions.httpTokensInput === 'required' ? [] : [`launch template ${node.node.path} must set metadata_options.http_tokens = "required" (IMDSv2)`]),
      });
    } else if (node instanceof Instance) {
      node.node.addValidation({
        validate: () =>
          node.launchTemplate.idInput !== undefined || node.metadataOptions.httpTokensInput === 'required'
            ? []
            : [`instance ${node.node.path} must use a launch template or set metadata_options.http_tokens = "required" (IMDSv2)`],
      });
    }
  }
}
