import { IConstruct } from 'constructs';
import { IAspect, TerraformResource } from 'cdktf';
import { componentOf } from '../component';

/** Adds a `Component` tag to every taggable resource created inside a marked component. */
export class ComponentTags implements IAspect {
  public visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !('tagsInput' in node)) return;
    const component = componentOf(node);
    if (component) {
      node.addOverride('tags.Component', component);
    }
  }
}
